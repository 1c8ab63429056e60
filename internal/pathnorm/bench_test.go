package pathnorm

import (
	"strings"
	"testing"
)

func BenchmarkNormalize(b *testing.B) {
	benchmarks := []struct {
		name string
		raw  string
	}{
		{"canonical", "/api/v1/users/12345/orders/67890"},
		{"canonical long", "/" + strings.Repeat("segment/", 100) + "end"},
		{"encoded", "/api/v1/users/caf%C3%A9/orders%20list"},
		{"dot segments", "/api/v1/../v2/./users//42/"},
		{"semicolon", "/api/v1/users;jsessionid=ABC123/orders"},
	}
	opt := Options{MaxBytes: 8192}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.raw)))
			for b.Loop() {
				if _, err := Normalize(bm.raw, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
