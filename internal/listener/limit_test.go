package listener

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// acceptLoop accepts from l until it fails and sends every connection to the
// returned channel.
func acceptLoop(l net.Listener) (<-chan net.Conn, <-chan error) {
	conns := make(chan net.Conn, 16)
	done := make(chan error, 1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				done <- err
				return
			}
			conns <- c
		}
	}()
	return conns, done
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestMaxConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	var logs syncBuffer
	l := Wrap(ln, Options{MaxConnections: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	conns, done := acceptLoop(l)
	addr := ln.Addr().String()

	dial(t, addr)
	dial(t, addr)
	first := <-conns
	<-conns

	// The kernel completes the third handshake, but Accept waits for a slot.
	dial(t, addr)
	select {
	case <-conns:
		t.Fatal("third connection accepted while two were open")
	case <-time.After(100 * time.Millisecond):
	}

	if err := first.Close(); err != nil {
		t.Fatalf("closing the first connection: %v", err)
	}
	first.Close() // a second Close must not free a second slot
	select {
	case <-conns:
	case <-time.After(5 * time.Second):
		t.Fatal("third connection not accepted after the first closed")
	}

	dial(t, addr)
	select {
	case <-conns:
		t.Fatal("connection accepted beyond the limit after a double Close")
	case <-time.After(100 * time.Millisecond):
	}

	if err := l.Close(); err != nil {
		t.Fatalf("closing the listener: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waiting for a slot after Close")
	}

	if n := strings.Count(logs.String(), "connection limit reached"); n != 1 {
		t.Errorf("logged the limit %d times, want once a minute; log:\n%s", n, logs.String())
	}
}

func TestMaxConnectionsWarningInterval(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	defer ln.Close()
	var logs syncBuffer
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := Wrap(ln, Options{MaxConnections: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}).(*listener)
	l.now = func() time.Time { return now }
	steps := []time.Duration{0, 30 * time.Second, 30 * time.Second, time.Second, 2 * time.Minute}
	wantTotal := []int{1, 1, 2, 2, 3}
	for i, step := range steps {
		now = now.Add(step)
		l.warnLimit()
		if got := strings.Count(logs.String(), "connection limit reached"); got != wantTotal[i] {
			t.Errorf("after step %d: %d warnings, want %d", i, got, wantTotal[i])
		}
	}
}

func TestUnlimitedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening on 127.0.0.1: %v", err)
	}
	l := Wrap(ln, Options{})
	defer l.Close()
	conns, _ := acceptLoop(l)
	for i := range 8 {
		dial(t, ln.Addr().String())
		select {
		case c := <-conns:
			defer c.Close()
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d not accepted without a limit", i+1)
		}
	}
}
