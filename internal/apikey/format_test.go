package apikey

import (
	"errors"
	"testing"
)

func TestFormatRoundTrip(t *testing.T) {
	f := Format{Prefix: "wda_"}
	s, k, err := f.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if len(s) != f.Len() {
		t.Errorf("len: got %d, want %d", len(s), f.Len())
	}
	got, err := f.Parse(s)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got.ID != k.ID {
		t.Errorf("id: got %q, want %q", got.ID, k.ID)
	}
	if !got.Matches(k.Hash()) {
		t.Error("parsed key does not match the generated key's hash")
	}
	if !f.LooksLike(s) {
		t.Error("LooksLike: got false for a generated key")
	}
}

func TestFormatRejects(t *testing.T) {
	admin := Format{Prefix: "wda_"}
	token, _, err := admin.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	apiKey, _, err := Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	// Changing one secret character keeps the format but breaks the checksum.
	flipped := []byte(token)
	pos := len(admin.Prefix) + IDLen + 3
	if flipped[pos] == 'a' {
		flipped[pos] = 'b'
	} else {
		flipped[pos] = 'a'
	}

	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrFormat},
		{"api key", apiKey, ErrFormat},
		{"truncated", token[:len(token)-1], ErrFormat},
		{"bad separator", token[:len(admin.Prefix)+IDLen] + "-" + token[len(admin.Prefix)+IDLen+1:], ErrFormat},
		{"non base62", token[:10] + "!" + token[11:], ErrFormat},
		{"checksum", string(flipped), ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := admin.Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFormatChecksumCoversPrefix(t *testing.T) {
	token, _, err := Format{Prefix: "wda_"}.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	// An admin token with its prefix replaced does not pass as an API key.
	if _, err := Parse(Prefix + token[len("wda_"):]); !errors.Is(err, ErrChecksum) {
		t.Errorf("Parse: got %v, want %v", err, ErrChecksum)
	}
}

func TestFormatAPIKeyPrefixMatchesParse(t *testing.T) {
	s, _, err := Format{Prefix: Prefix}.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if _, err := Parse(s); err != nil {
		t.Errorf("Parse of a key generated with Format{Prefix}: %v", err)
	}
}

func FuzzFormatParse(f *testing.F) {
	format := Format{Prefix: "wda_"}
	s, _, err := format.Generate()
	if err != nil {
		f.Fatalf("Generate: %v", err)
	}
	f.Add(s)
	f.Add("")
	f.Add("wda_")
	f.Fuzz(func(t *testing.T, in string) {
		k, err := format.Parse(in)
		if err != nil {
			return
		}
		if len(k.ID) != IDLen {
			t.Errorf("parsed id %q has length %d, want %d", k.ID, len(k.ID), IDLen)
		}
		if !format.LooksLike(in) {
			t.Errorf("LooksLike(%q): got false for a key that parses", in)
		}
	})
}
