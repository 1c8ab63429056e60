package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/warden-api/warden/internal/problem"
	"github.com/warden-api/warden/internal/secret"
)

// maxResponseBytes bounds what the client reads from the admin API. A
// list of every consumer or key fits well within it.
const maxResponseBytes = 64 << 20

// Client calls the admin API of a running gateway. Its methods mirror
// Service's, without the actor: the token is the actor. Problem responses
// come back as *Error.
type Client struct {
	base  *url.URL
	token secret.Value
	http  *http.Client
}

// NewClient returns a client for the admin API at baseURL, such as
// "http://127.0.0.1:9901", that authenticates with token. httpClient must
// have a timeout set.
func NewClient(baseURL string, token secret.Value, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid admin URL %q: use http://host:port or https://host:port", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, token: token, http: httpClient}, nil
}

// do sends a request and decodes a 2xx JSON response into out (unless out
// is nil) or a problem response into *Error.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, reader)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token.Reveal())

	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("calling the admin API at %s: %w", c.base.Redacted(), err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("reading the admin API response: %w", err)
	}

	if res.StatusCode >= 300 {
		return problemError(res, data)
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding the admin API response to %s %s: %w", method, path, err)
	}
	return nil
}

// problemError turns a failed response into *Error. A body that is not a
// problem document (say, from a proxy) keeps only the status.
func problemError(res *http.Response, data []byte) error {
	var p Problem
	if err := json.Unmarshal(data, &p); err != nil || p.Status == 0 {
		return &Error{
			Status: res.StatusCode, Title: http.StatusText(res.StatusCode),
			Detail: fmt.Sprintf("the admin API returned %s", res.Status),
		}
	}
	return &Error{
		Status: p.Status, Slug: strings.TrimPrefix(p.Type, problem.TypePrefix), Title: p.Title,
		Detail: p.Detail, Fields: p.Errors,
	}
}

func pathEscape(id string) string { return url.PathEscape(id) }

// ListConsumers calls GET /admin/consumers.
func (c *Client) ListConsumers(ctx context.Context) ([]Consumer, error) {
	var l List[Consumer]
	err := c.do(ctx, "GET", "/admin/consumers", nil, &l)
	return l.Items, err
}

// GetConsumer calls GET /admin/consumers/{id}.
func (c *Client) GetConsumer(ctx context.Context, id string) (Consumer, error) {
	var out Consumer
	err := c.do(ctx, "GET", "/admin/consumers/"+pathEscape(id), nil, &out)
	return out, err
}

// CreateConsumer calls POST /admin/consumers.
func (c *Client) CreateConsumer(ctx context.Context, req ConsumerCreate) (Consumer, error) {
	var out Consumer
	err := c.do(ctx, "POST", "/admin/consumers", req, &out)
	return out, err
}

// UpdateConsumer calls PATCH /admin/consumers/{id}.
func (c *Client) UpdateConsumer(ctx context.Context, id string, patch ConsumerPatch) (Consumer, error) {
	var out Consumer
	err := c.do(ctx, "PATCH", "/admin/consumers/"+pathEscape(id), patch, &out)
	return out, err
}

// SetConsumerStatus calls POST /admin/consumers/{id}/suspend or /activate.
func (c *Client) SetConsumerStatus(ctx context.Context, id, status string) (Consumer, error) {
	verb := map[string]string{"active": "activate", "suspended": "suspend"}[status]
	if verb == "" {
		return Consumer{}, invalidField("status", "must be %q or %q", "active", "suspended")
	}
	var out Consumer
	err := c.do(ctx, "POST", "/admin/consumers/"+pathEscape(id)+"/"+verb, nil, &out)
	return out, err
}

// DeleteConsumer calls DELETE /admin/consumers/{id}.
func (c *Client) DeleteConsumer(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/admin/consumers/"+pathEscape(id), nil, nil)
}

// ConsumerUsage calls GET /admin/consumers/{id}/usage.
func (c *Client) ConsumerUsage(ctx context.Context, id string) (ConsumerUsage, error) {
	var out ConsumerUsage
	err := c.do(ctx, "GET", "/admin/consumers/"+pathEscape(id)+"/usage", nil, &out)
	return out, err
}

// ListKeys calls GET /admin/keys, filtered by consumer when consumerID is
// not "".
func (c *Client) ListKeys(ctx context.Context, consumerID string) ([]APIKey, error) {
	path := "/admin/keys"
	if consumerID != "" {
		path = "/admin/consumers/" + pathEscape(consumerID) + "/keys"
	}
	var l List[APIKey]
	err := c.do(ctx, "GET", path, nil, &l)
	return l.Items, err
}

// GetKey calls GET /admin/keys/{id}.
func (c *Client) GetKey(ctx context.Context, id string) (APIKey, error) {
	var out APIKey
	err := c.do(ctx, "GET", "/admin/keys/"+pathEscape(id), nil, &out)
	return out, err
}

// CreateKey calls POST /admin/consumers/{id}/keys.
func (c *Client) CreateKey(ctx context.Context, consumerID string, req KeyCreate) (CreatedKey, error) {
	var out CreatedKey
	err := c.do(ctx, "POST", "/admin/consumers/"+pathEscape(consumerID)+"/keys", req, &out)
	return out, err
}

// RotateKey calls POST /admin/keys/{id}/rotate.
func (c *Client) RotateKey(ctx context.Context, id string, req KeyRotate) (RotatedKey, error) {
	var out RotatedKey
	err := c.do(ctx, "POST", "/admin/keys/"+pathEscape(id)+"/rotate", req, &out)
	return out, err
}

// RevokeKey calls POST /admin/keys/{id}/revoke.
func (c *Client) RevokeKey(ctx context.Context, id string) (APIKey, error) {
	var out APIKey
	err := c.do(ctx, "POST", "/admin/keys/"+pathEscape(id)+"/revoke", nil, &out)
	return out, err
}

// ListTokens calls GET /admin/tokens.
func (c *Client) ListTokens(ctx context.Context) ([]AdminToken, error) {
	var l List[AdminToken]
	err := c.do(ctx, "GET", "/admin/tokens", nil, &l)
	return l.Items, err
}

// CreateToken calls POST /admin/tokens.
func (c *Client) CreateToken(ctx context.Context, req TokenCreate) (CreatedToken, error) {
	var out CreatedToken
	err := c.do(ctx, "POST", "/admin/tokens", req, &out)
	return out, err
}

// RevokeToken calls POST /admin/tokens/{id}/revoke.
func (c *Client) RevokeToken(ctx context.Context, id string) (AdminToken, error) {
	var out AdminToken
	err := c.do(ctx, "POST", "/admin/tokens/"+pathEscape(id)+"/revoke", nil, &out)
	return out, err
}

// ListAudit calls GET /admin/audit.
func (c *Client) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	var l List[AuditEntry]
	err := c.do(ctx, "GET", fmt.Sprintf("/admin/audit?limit=%d", limit), nil, &l)
	return l.Items, err
}

// IsStatus reports whether err is an *Error with the HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}
