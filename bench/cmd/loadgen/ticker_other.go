//go:build !linux

package main

import "time"

// ticker wakes the pacer every interval. Outside Linux it is a time.Ticker,
// whose resolution may be a millisecond or coarser.
type ticker struct{ t *time.Ticker }

func newTicker(interval time.Duration) (*ticker, error) {
	return &ticker{t: time.NewTicker(interval)}, nil
}

func (t *ticker) wait() error {
	<-t.t.C
	return nil
}

func (t *ticker) close() { t.t.Stop() }
