package demo

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on request values, stated the same way in openapi.yaml.
const (
	maxUserIDLen  = 32
	maxNameLen    = 100
	maxEmailLen   = 254
	maxTitleLen   = 200
	maxAuthorLen  = 100
	maxPriceCents = 100_000_000
	maxStock      = 100_000
	maxQuantity   = 100
	defaultLimit  = 20
	maxLimit      = 100
	maxOffset     = 1_000_000
)

// list is the envelope of every collection response.
type list[T any] struct {
	Items []T `json:"items"`
}

// bookPage is one page of GET /books.
type bookPage struct {
	Items  []Book `json:"items"`
	Total  int    `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

func (a *api) health(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// whoAmI echoes what the gateway forwarded about the consumer. Missing
// headers are null, and scopes are split on spaces and commas.
type whoAmI struct {
	ConsumerID *string  `json:"consumer_id"`
	Scopes     []string `json:"scopes"`
	RequestID  *string  `json:"request_id"`
}

func (a *api) whoami(w http.ResponseWriter, r *http.Request) error {
	isSeparator := func(c rune) bool { return c == ' ' || c == ',' }
	resp := whoAmI{Scopes: strings.FieldsFunc(r.Header.Get("X-Consumer-Scopes"), isSeparator)}
	if resp.Scopes == nil {
		resp.Scopes = []string{}
	}
	if v := r.Header.Get("X-Consumer-Id"); v != "" {
		resp.ConsumerID = &v
	}
	if v := r.Header.Get("X-Request-Id"); v != "" {
		resp.RequestID = &v
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, list[User]{Items: a.store.listUsers()})
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.store.user(r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

type userInput struct {
	ID    *string `json:"id"`
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

func (a *api) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var v validator
	u := User{
		ID:    v.text("id", in.ID, maxUserIDLen, userIDPattern),
		Name:  v.text("name", in.Name, maxNameLen, nil),
		Email: v.text("email", in.Email, maxEmailLen, emailPattern),
	}
	if err := v.err(); err != nil {
		return err
	}
	if err := a.store.addUser(u); err != nil {
		return err
	}

	a.log.Info("demo user created", "user_id", u.ID)
	w.Header().Set("Location", "/users/"+u.ID)
	return writeJSON(w, http.StatusCreated, u)
}

func (a *api) listBooks(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return err
	}
	offset, err := queryInt(r, "offset", 0, 0, maxOffset)
	if err != nil {
		return err
	}
	author := r.URL.Query().Get("author")
	if utf8.RuneCountInString(author) > maxAuthorLen {
		p := badRequest("a query parameter is invalid")
		p.Errors = []fieldError{{Field: "author", Message: fmt.Sprintf("must be at most %d characters", maxAuthorLen)}}
		return p
	}

	books, total := a.store.listBooks(author, limit, offset)
	return writeJSON(w, http.StatusOK, bookPage{Items: books, Total: total, Limit: limit, Offset: offset})
}

func (a *api) getBook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "book")
	if err != nil {
		return err
	}
	b, err := a.store.book(id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

type bookInput struct {
	Title      *string `json:"title"`
	Author     *string `json:"author"`
	ISBN       *string `json:"isbn"`
	PriceCents *int64  `json:"price_cents"`
	Stock      *int64  `json:"stock"`
}

// readBook decodes and validates the body of POST /books and PUT /books/{id}.
func readBook(w http.ResponseWriter, r *http.Request) (Book, error) {
	var in bookInput
	if err := decodeJSON(w, r, &in); err != nil {
		return Book{}, err
	}
	var v validator
	b := Book{
		Title:      v.text("title", in.Title, maxTitleLen, nil),
		Author:     v.text("author", in.Author, maxAuthorLen, nil),
		ISBN:       v.text("isbn", in.ISBN, 13, isbnPattern),
		PriceCents: v.integer("price_cents", in.PriceCents, 0, maxPriceCents),
		Stock:      v.integer("stock", in.Stock, 0, maxStock),
	}
	if b.ISBN != "" && !validISBN13(b.ISBN) {
		v.add("isbn", "has a wrong ISBN-13 check digit")
	}
	return b, v.err()
}

func (a *api) createBook(w http.ResponseWriter, r *http.Request) error {
	b, err := readBook(w, r)
	if err != nil {
		return err
	}
	if b, err = a.store.putBook(b); err != nil {
		return err
	}

	a.log.Info("demo book created", "book_id", b.ID)
	w.Header().Set("Location", "/books/"+strconv.FormatInt(b.ID, 10))
	return writeJSON(w, http.StatusCreated, b)
}

func (a *api) updateBook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "book")
	if err != nil {
		return err
	}
	b, err := readBook(w, r)
	if err != nil {
		return err
	}
	b.ID = id
	if b, err = a.store.putBook(b); err != nil {
		return err
	}

	a.log.Info("demo book replaced", "book_id", b.ID)
	return writeJSON(w, http.StatusOK, b)
}

func (a *api) deleteBook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "book")
	if err != nil {
		return err
	}
	if err := a.store.deleteBook(id); err != nil {
		return err
	}

	a.log.Info("demo book deleted", "book_id", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listUserOrders(w http.ResponseWriter, r *http.Request) error {
	orders, err := a.store.ordersOf(r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[Order]{Items: orders})
}

type orderInput struct {
	BookID   *int64 `json:"book_id"`
	Quantity *int64 `json:"quantity"`
}

func (a *api) createOrder(w http.ResponseWriter, r *http.Request) error {
	userID := r.PathValue("id")
	if _, err := a.store.user(userID); err != nil {
		return err
	}
	var in orderInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	var v validator
	bookID := v.integer("book_id", in.BookID, 1, math.MaxInt64)
	quantity := v.integer("quantity", in.Quantity, 1, maxQuantity)
	if err := v.err(); err != nil {
		return err
	}

	o, err := a.store.placeOrder(userID, bookID, quantity)
	if err != nil {
		return err
	}
	a.log.Info("demo order placed", "order_id", o.ID, "user_id", userID, "book_id", bookID, "quantity", quantity)
	w.Header().Set("Location", "/orders/"+strconv.FormatInt(o.ID, 10))
	return writeJSON(w, http.StatusCreated, o)
}

func (a *api) getOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "order")
	if err != nil {
		return err
	}
	o, err := a.store.order(id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}
