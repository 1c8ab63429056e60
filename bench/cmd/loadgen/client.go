package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection that sends the same GET
// request again and again.
//
// It is written by hand instead of using net/http's client, because that
// client costs about 50 µs of CPU per request on the benchmark machine (2
// AMD EPYC cores). At 10,000 requests per second it keeps the client core
// 95 % busy, so the load generator would add more latency than the proxy
// under test. This one writes prebuilt request bytes and reads responses
// framed by Content-Length, the only framing the benchmark's upstream and
// proxies use. Chunked or unframed responses are reported as errors.
type conn struct {
	addr    string
	request []byte
	timeout time.Duration
	nc      net.Conn
	br      *bufio.Reader
}

// newConn returns a connection to the host of target that sends a GET for
// target's path and query with the given extra header lines. It dials
// lazily, on the first request.
func newConn(target *url.URL, header []byte, timeout time.Duration) *conn {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: warden-bench-loadgen\r\n", target.RequestURI(), target.Host)
	b.Write(header)
	b.WriteString("\r\n")
	return &conn{addr: target.Host, request: b.Bytes(), timeout: timeout}
}

// do sends the request and reads the whole response. It returns the status
// code. After an error the connection is closed and the next call dials
// again.
func (c *conn) do(ctx context.Context) (int, error) {
	status, keepAlive, err := c.roundTrip(ctx)
	if err != nil || !keepAlive {
		c.close()
	}
	return status, err
}

func (c *conn) roundTrip(ctx context.Context) (status int, keepAlive bool, err error) {
	if c.nc == nil {
		d := net.Dialer{Timeout: c.timeout}
		nc, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return 0, false, fmt.Errorf("connecting to %s: %w", c.addr, err)
		}
		c.nc, c.br = nc, bufio.NewReaderSize(nc, 16<<10)
	}
	if err := c.nc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, false, err
	}
	if _, err := c.nc.Write(c.request); err != nil {
		return 0, false, fmt.Errorf("writing the request: %w", err)
	}
	status, length, keepAlive, err := readHead(c.br)
	if err != nil {
		return 0, false, err
	}
	if _, err := c.br.Discard(length); err != nil {
		return 0, false, fmt.Errorf("reading the %d-byte body: %w", length, err)
	}
	return status, keepAlive, nil
}

func (c *conn) close() {
	if c.nc != nil {
		_ = c.nc.Close()
		c.nc, c.br = nil, nil
	}
}

var errUnframed = errors.New("response without Content-Length: only Content-Length framing is supported")

// readHead reads a response's status line and header fields, and returns
// the status code, the Content-Length and whether the connection stays
// open.
func readHead(br *bufio.Reader) (status, length int, keepAlive bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, fmt.Errorf("reading the status line: %w", err)
	}
	// "HTTP/1.1 200 OK": the code is bytes 9 to 12.
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, fmt.Errorf("invalid status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, fmt.Errorf("invalid status line %q", line)
	}
	length, keepAlive = -1, true
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, fmt.Errorf("reading the header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.Atoi(string(value))
			if err != nil || length < 0 {
				return 0, 0, false, fmt.Errorf("invalid Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keepAlive = false
		}
	}
	if length < 0 {
		if status == 204 || status == 304 || status/100 == 1 {
			return status, 0, keepAlive, nil
		}
		return 0, 0, false, errUnframed
	}
	return status, length, keepAlive, nil
}
