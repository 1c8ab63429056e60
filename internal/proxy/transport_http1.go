package proxy

import (
	"context"
	"io"
	"net/http"

	"github.com/warden-api/warden/internal/proxy/http1"
)

// h1Transport sends requests through the http1 client of one target.
type h1Transport struct{ c *http1.Client }

func (h *h1Transport) roundTrip(ctx context.Context, req *outRequest) (response, error) {
	resp, err := h.c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*h1Response)(resp), nil
}

func (h *h1Transport) closeIdle() { h.c.CloseIdle() }

// h1Response adapts an http1.Response without an allocation.
type h1Response http1.Response

func (r *h1Response) statusCode() int        { return r.StatusCode }
func (r *h1Response) header() http.Header    { return r.Header }
func (r *h1Response) body() io.ReadCloser    { return r.Body }
func (r *h1Response) trailers() http.Header  { return r.Trailer }
func (r *h1Response) buffered() int          { return r.Body.Buffered() }
func (r *h1Response) trailerNames() []string { return connectionTokens(nil, r.Header["Trailer"]) }
