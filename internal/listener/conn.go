package listener

import (
	"hash/maphash"
	"log/slog"
	"net"
	"sync"
)

// conn is a connection accepted by a listener from Wrap. Read passes the bytes
// through unchanged after feeding them to the tracker.
//
// conn embeds net.Conn, so only the interface's methods are promoted: an
// io.Copy from the connection cannot bypass Read through a WriteTo method of
// *net.TCPConn.
//
// After a handler hijacks the connection for a WebSocket upgrade or a CONNECT
// tunnel, reads still pass through the tracker. It stops at the first byte
// that cannot continue HTTP/1 framing, or queues verdicts that no Check takes
// until maxPendingVerdicts stops it.
type conn struct {
	net.Conn
	seed    maphash.Seed
	logger  *slog.Logger
	release func() // frees the listener's connection slot

	releaseOnce sync.Once

	mu         sync.Mutex // guards tracker and stopLogged
	tracker    tracker
	stopLogged bool
}

func newConn(c net.Conn, l *listener) *conn {
	wc := &conn{Conn: c, seed: l.seed, logger: l.logger, release: l.release}
	wc.tracker.init(l.seed, int64(l.maxHeader)+headerSlop)
	return wc
}

// Read reads from the connection and feeds what it read to the tracker
// before returning it.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.tracker.feed(p[:n])
		c.logStopLocked()
		c.mu.Unlock()
	}
	return n, err
}

// Close closes the connection and frees its slot in the listener.
func (c *conn) Close() error {
	err := c.Conn.Close()
	c.releaseOnce.Do(c.release)
	return err
}

// CloseWrite shuts down the writing side of the connection when the wrapped
// connection supports it, as *net.TCPConn does. http.Server calls it to
// half-close before closing a connection whose request body it did not read.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errNoCloseWrite
}

// verdict takes the verdict queued for the request with the given method and
// request target. It returns "" for a well-framed request.
func (c *conn) verdict(method, target string) string {
	key := requestKey(c.seed, method, target)
	c.mu.Lock()
	defer c.mu.Unlock()
	reason := c.tracker.take(key)
	c.logStopLocked()
	return reason
}

// logStopLocked logs once, at debug level, why the tracker stopped. A
// connection whose first byte cannot start an HTTP/1 request line, such as a
// TLS handshake, is not logged.
func (c *conn) logStopLocked() {
	t := &c.tracker
	if t.state != stStopped || c.stopLogged {
		return
	}
	c.stopLogged = true
	if t.stopCause == causeNotHTTP && t.stopOffset == 0 {
		return
	}
	c.logger.Debug("stopped tracking HTTP/1.1 framing, so later requests on the connection are rejected",
		"remote_addr", c.RemoteAddr().String(), "cause", t.stopCause, "offset", t.stopOffset)
}

// requestKey hashes a request's method and target the way the tracker hashes
// its request line.
func requestKey(seed maphash.Seed, method, target string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(method)
	h.WriteByte(' ')
	h.WriteString(target)
	return h.Sum64()
}
