package demo

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Limits on the size of the store. The demo API may be reachable by
// anyone who has a demo key, so every collection is bounded.
const (
	maxUsers  = 1000
	maxBooks  = 1000
	maxOrders = 10000
)

// User is a customer of the bookstore.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Book is a title in the catalog. Prices are in cents to keep them exact.
type Book struct {
	ID         int64  `json:"id"`
	Title      string `json:"title"`
	Author     string `json:"author"`
	ISBN       string `json:"isbn"`
	PriceCents int64  `json:"price_cents"`
	Stock      int64  `json:"stock"`
}

// Order is a purchase of one book by one user. TotalCents is fixed when
// the order is placed, so later price changes do not alter it.
type Order struct {
	ID         int64     `json:"id"`
	UserID     string    `json:"user_id"`
	BookID     int64     `json:"book_id"`
	Quantity   int64     `json:"quantity"`
	TotalCents int64     `json:"total_cents"`
	CreatedAt  time.Time `json:"created_at"`
}

// store is the in-memory state of the bookstore, safe for concurrent use.
// Its methods return *problem errors, which the handlers send as they are.
type store struct {
	mu          sync.RWMutex
	now         func() time.Time
	users       map[string]User
	books       map[int64]Book
	orders      map[int64]Order
	nextBookID  int64
	nextOrderID int64
}

// newStore returns a store with the seed data: three users, ten books and
// one order each for alice and bob.
func newStore(now func() time.Time) *store {
	s := &store{
		now:    now,
		users:  make(map[string]User),
		books:  make(map[int64]Book),
		orders: make(map[int64]Order),
	}
	for _, u := range []User{
		{ID: "alice", Name: "Alice Archer", Email: "alice@example.com"},
		{ID: "bob", Name: "Bob Baker", Email: "bob@example.com"},
		{ID: "carol", Name: "Carol Cooper", Email: "carol@example.com"},
	} {
		s.users[u.ID] = u
	}
	for _, b := range seedBooks() {
		s.nextBookID++
		b.ID = s.nextBookID
		s.books[b.ID] = b
	}
	for _, o := range []Order{
		{UserID: "alice", BookID: 1, Quantity: 1},
		{UserID: "bob", BookID: 3, Quantity: 2},
	} {
		b := s.books[o.BookID]
		b.Stock -= o.Quantity
		s.books[b.ID] = b
		s.nextOrderID++
		o.ID = s.nextOrderID
		o.TotalCents = b.PriceCents * o.Quantity
		o.CreatedAt = now().UTC()
		s.orders[o.ID] = o
	}
	return s
}

// seedBooks returns public-domain titles. The ISBNs are made up but carry
// valid ISBN-13 check digits. Middlemarch is out of stock, so ordering it
// shows the 409 response.
func seedBooks() []Book {
	return []Book{
		{Title: "Pride and Prejudice", Author: "Jane Austen", ISBN: "9781000000016", PriceCents: 899, Stock: 12},
		{Title: "Emma", Author: "Jane Austen", ISBN: "9781000000023", PriceCents: 999, Stock: 7},
		{Title: "Great Expectations", Author: "Charles Dickens", ISBN: "9781000000030", PriceCents: 1099, Stock: 9},
		{Title: "A Tale of Two Cities", Author: "Charles Dickens", ISBN: "9781000000047", PriceCents: 949, Stock: 4},
		{Title: "Adventures of Huckleberry Finn", Author: "Mark Twain", ISBN: "9781000000054", PriceCents: 799, Stock: 15},
		{Title: "The Adventures of Tom Sawyer", Author: "Mark Twain", ISBN: "9781000000061", PriceCents: 749, Stock: 3},
		{Title: "Moby-Dick", Author: "Herman Melville", ISBN: "9781000000078", PriceCents: 1299, Stock: 5},
		{Title: "Frankenstein", Author: "Mary Shelley", ISBN: "9781000000085", PriceCents: 699, Stock: 8},
		{Title: "Middlemarch", Author: "George Eliot", ISBN: "9781000000092", PriceCents: 1499, Stock: 0},
		{Title: "The Time Machine", Author: "H. G. Wells", ISBN: "9781000000108", PriceCents: 599, Stock: 20},
	}
}

func (s *store) listUsers() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.SortedFunc(maps.Values(s.users), func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
}

func (s *store) user(id string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, notFound("user", id)
	}
	return u, nil
}

func (s *store) addUser(u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; ok {
		return conflict(fmt.Sprintf("user %q already exists", u.ID))
	}
	for _, other := range s.users {
		if strings.EqualFold(other.Email, u.Email) {
			return conflict(fmt.Sprintf("email %q belongs to another user", u.Email))
		}
	}
	if len(s.users) >= maxUsers {
		return conflict(fmt.Sprintf("the store holds at most %d users", maxUsers))
	}
	s.users[u.ID] = u
	return nil
}

// listBooks returns the books by author (all when author is ""), ordered
// by id, from offset on and at most limit of them, and the number of
// matching books.
func (s *store) listBooks(author string, limit, offset int) ([]Book, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var matching []Book
	for _, b := range s.books {
		if author == "" || strings.EqualFold(b.Author, author) {
			matching = append(matching, b)
		}
	}
	slices.SortFunc(matching, func(a, b Book) int { return cmp.Compare(a.ID, b.ID) })
	total := len(matching)
	start := min(offset, total)
	end := min(start+limit, total)
	return matching[start:end], total
}

func (s *store) book(id int64) (Book, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.books[id]
	if !ok {
		return Book{}, notFound("book", fmt.Sprint(id))
	}
	return b, nil
}

// putBook adds b when b.ID is 0 and replaces the book with b.ID otherwise.
// It returns the stored book.
func (s *store) putBook(b Book) (Book, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.ID != 0 {
		if _, ok := s.books[b.ID]; !ok {
			return Book{}, notFound("book", fmt.Sprint(b.ID))
		}
	}
	for _, other := range s.books {
		if other.ISBN == b.ISBN && other.ID != b.ID {
			return Book{}, conflict(fmt.Sprintf("ISBN %s belongs to book %d", b.ISBN, other.ID))
		}
	}
	if b.ID == 0 {
		if len(s.books) >= maxBooks {
			return Book{}, conflict(fmt.Sprintf("the store holds at most %d books; delete one first", maxBooks))
		}
		s.nextBookID++
		b.ID = s.nextBookID
	}
	s.books[b.ID] = b
	return b, nil
}

func (s *store) deleteBook(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.books[id]; !ok {
		return notFound("book", fmt.Sprint(id))
	}
	delete(s.books, id)
	return nil
}

// ordersOf returns the orders of a user, ordered by id.
func (s *store) ordersOf(userID string) ([]Order, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.users[userID]; !ok {
		return nil, notFound("user", userID)
	}
	orders := []Order{}
	for _, o := range s.orders {
		if o.UserID == userID {
			orders = append(orders, o)
		}
	}
	slices.SortFunc(orders, func(a, b Order) int { return cmp.Compare(a.ID, b.ID) })
	return orders, nil
}

func (s *store) order(id int64) (Order, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, notFound("order", fmt.Sprint(id))
	}
	return o, nil
}

// placeOrder takes quantity copies of a book out of stock and records the
// order, or changes nothing when it fails.
func (s *store) placeOrder(userID string, bookID, quantity int64) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return Order{}, notFound("user", userID)
	}
	b, ok := s.books[bookID]
	if !ok {
		return Order{}, invalidFields(fieldError{Field: "book_id", Message: fmt.Sprintf("book %d does not exist", bookID)})
	}
	if b.Stock < quantity {
		return Order{}, conflict(fmt.Sprintf("book %d has %d in stock, %d requested", bookID, b.Stock, quantity))
	}
	if len(s.orders) >= maxOrders {
		return Order{}, conflict(fmt.Sprintf("the store holds at most %d orders", maxOrders))
	}

	b.Stock -= quantity
	s.books[b.ID] = b
	s.nextOrderID++
	o := Order{
		ID:         s.nextOrderID,
		UserID:     userID,
		BookID:     bookID,
		Quantity:   quantity,
		TotalCents: b.PriceCents * quantity,
		CreatedAt:  s.now().UTC(),
	}
	s.orders[o.ID] = o
	return o, nil
}
