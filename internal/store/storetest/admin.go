package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
)

func testAdminTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	tokens := []*store.AdminToken{
		{ID: "t2", Name: "ci", Role: store.RoleOperator, Hash: []byte("h2"), CreatedAt: at(2 * time.Second)},
		{ID: "t1", Name: "root", Role: store.RoleAdmin, Hash: []byte("h1"), CreatedAt: at(time.Second)},
	}
	for _, tok := range tokens {
		if err := s.CreateAdminToken(ctx, tok); err != nil {
			t.Fatalf("CreateAdminToken(%q): %v", tok.ID, err)
		}
	}

	got, err := s.GetAdminToken(ctx, "t2")
	if err != nil {
		t.Fatalf("GetAdminToken: %v", err)
	}
	want := *tokens[0]
	want.CreatedAt = store.Normalize(want.CreatedAt)
	wantEqual(t, "token", *got, want)

	if err := s.RevokeAdminToken(ctx, "t1", at(time.Hour)); err != nil {
		t.Fatalf("RevokeAdminToken: %v", err)
	}
	if err := s.RevokeAdminToken(ctx, "t1", at(2*time.Hour)); err != nil {
		t.Fatalf("RevokeAdminToken(again): %v", err)
	}

	list, err := s.ListAdminTokens(ctx)
	if err != nil {
		t.Fatalf("ListAdminTokens: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("ListAdminTokens: got %d tokens, want 2", len(list))
	}
	wantEqual(t, "ids", []string{list[0].ID, list[1].ID}, []string{"t1", "t2"})
	wantTime(t, "revoked_at", list[0].RevokedAt, at(time.Hour))
	if !list[1].RevokedAt.IsZero() {
		t.Errorf("revoked_at of t2: got %v, want zero", list[1].RevokedAt)
	}
}

func testAdminTokenErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := &store.AdminToken{ID: "t1", Role: store.RoleViewer, Hash: []byte("h")}
	if err := s.CreateAdminToken(ctx, tok); err != nil {
		t.Fatalf("CreateAdminToken: %v", err)
	}
	if tok.CreatedAt.IsZero() {
		t.Errorf("CreatedAt: got zero, want the current time")
	}
	err := s.CreateAdminToken(ctx, &store.AdminToken{ID: "t1", Role: store.RoleAdmin, Hash: []byte("h")})
	wantErr(t, "CreateAdminToken(duplicate)", err, store.ErrConflict)
	_, err = s.GetAdminToken(ctx, "missing")
	wantErr(t, "GetAdminToken", err, store.ErrNotFound)
	err = s.RevokeAdminToken(ctx, "missing", at(0))
	wantErr(t, "RevokeAdminToken", err, store.ErrNotFound)
}

func testAuditOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	var appended []store.AuditEntry
	for i, action := range []string{"consumer.create", "key.create", "key.revoke"} {
		e := store.AuditEntry{
			At:       at(time.Duration(i) * time.Second),
			Actor:    "cli:alice",
			Action:   action,
			Target:   fmt.Sprintf("target-%d", i),
			SourceIP: "127.0.0.1",
			Detail:   `{"name":"x"}`,
		}
		if err := s.AppendAudit(ctx, &e); err != nil {
			t.Fatalf("AppendAudit(%q): %v", action, err)
		}
		if i > 0 && e.ID <= appended[i-1].ID {
			t.Errorf("entry %d id: got %d, want more than %d", i, e.ID, appended[i-1].ID)
		}
		e.At = store.Normalize(e.At)
		appended = append(appended, e)
	}

	got, err := s.ListAudit(ctx, 2)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	wantEqual(t, "newest two", got, []store.AuditEntry{appended[2], appended[1]})

	got, err = s.ListAudit(ctx, 100)
	if err != nil {
		t.Fatalf("ListAudit(100): %v", err)
	}
	if len(got) != 3 {
		t.Errorf("ListAudit(100): got %d entries, want 3", len(got))
	}
}

func testQuotaUsage(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	day1, day2 := at(0), at(24*time.Hour)
	adds := []store.QuotaUsage{
		{ConsumerID: "acme", Quota: "daily", PeriodStart: day1, Requests: 1, Bytes: 100},
		{ConsumerID: "acme", Quota: "daily", PeriodStart: day1, Requests: 2, Bytes: 50},
		{ConsumerID: "acme", Quota: "daily", PeriodStart: day2, Requests: 5, Bytes: 5},
		{ConsumerID: "acme", Quota: "bytes", PeriodStart: day2, Requests: 0, Bytes: 7},
	}
	var last store.QuotaUsage
	for _, u := range adds {
		var err error
		if last, err = s.AddQuotaUsage(ctx, u); err != nil {
			t.Fatalf("AddQuotaUsage: %v", err)
		}
	}
	wantEqual(t, "last totals", last, store.QuotaUsage{
		ConsumerID: "acme", Quota: "bytes", PeriodStart: store.Normalize(day2), Bytes: 7,
	})

	got, err := s.ListQuotaUsage(ctx, "acme", time.Time{})
	if err != nil {
		t.Fatalf("ListQuotaUsage: %v", err)
	}
	wantEqual(t, "all periods", got, []store.QuotaUsage{
		{ConsumerID: "acme", Quota: "daily", PeriodStart: store.Normalize(day1), Requests: 3, Bytes: 150},
		{ConsumerID: "acme", Quota: "bytes", PeriodStart: store.Normalize(day2), Requests: 0, Bytes: 7},
		{ConsumerID: "acme", Quota: "daily", PeriodStart: store.Normalize(day2), Requests: 5, Bytes: 5},
	})

	got, err = s.ListQuotaUsage(ctx, "acme", day2)
	if err != nil {
		t.Fatalf("ListQuotaUsage(since day2): %v", err)
	}
	if len(got) != 2 {
		t.Errorf("ListQuotaUsage(since day2): got %d periods, want 2", len(got))
	}
}

func testQuotaConcurrent(t *testing.T, s store.Store) {
	const workers, addsPerWorker = 16, 25
	ctx := context.Background()
	mustCreateConsumer(t, s, "acme")
	u := store.QuotaUsage{ConsumerID: "acme", Quota: "monthly", PeriodStart: at(0), Requests: 1, Bytes: 10}

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range addsPerWorker {
				if _, err := s.AddQuotaUsage(ctx, u); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("AddQuotaUsage: %v", err)
	}

	got, err := s.ListQuotaUsage(ctx, "acme", time.Time{})
	if err != nil {
		t.Fatalf("ListQuotaUsage: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("ListQuotaUsage: got %d periods, want 1", len(got))
	}
	if want := int64(workers * addsPerWorker); got[0].Requests != want {
		t.Errorf("requests: got %d, want %d", got[0].Requests, want)
	}
	if want := int64(workers * addsPerWorker * 10); got[0].Bytes != want {
		t.Errorf("bytes: got %d, want %d", got[0].Bytes, want)
	}
}

func testQuotaUnknownConsumer(t *testing.T, s store.Store) {
	_, err := s.AddQuotaUsage(context.Background(), store.QuotaUsage{ConsumerID: "missing", Quota: "q", PeriodStart: at(0), Requests: 1})
	wantErr(t, "AddQuotaUsage(unknown consumer)", err, store.ErrNotFound)
}
