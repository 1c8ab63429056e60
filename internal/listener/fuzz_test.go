package listener

import (
	"hash/maphash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzTracker feeds arbitrary bytes to the tracker, whole, cut at
// pseudo-random positions drawn from splitSeed, and one byte at a time. The
// results must be equal, the verdict queue must stay within its bound, and
// every request the tracker accepts must be framed as net/http frames it.
func FuzzTracker(f *testing.F) {
	for _, tc := range trackerCases() {
		f.Add([]byte(tc.raw), uint64(len(tc.raw)))
	}
	files, _ := filepath.Glob(filepath.Join(llhttpDir, "*.md"))
	for _, file := range files {
		if _, err := os.Stat(file); err == nil {
			for _, c := range parseLLHTTPFile(f, file) {
				f.Add(c.input, uint64(len(c.input)))
			}
		}
	}

	seed := maphash.MakeSeed()
	f.Fuzz(func(t *testing.T, data []byte, splitSeed uint64) {
		rng := rand.New(rand.NewPCG(splitSeed, uint64(len(data))))
		cuts := make([]int, rng.IntN(8))
		for i := range cuts {
			cuts[i] = rng.IntN(len(data) + 1)
		}
		slices.Sort(cuts)

		// A small head limit as well, so that header_too_large is reached.
		for _, maxHead := range []int64{testMaxHead, 16 + int64(splitSeed%256)} {
			whole := newTestTracker(seed, maxHead)
			whole.feed(data)
			if n, slots := whole.queue.n, len(whole.queue.slots()); n > maxPendingVerdicts || slots > maxPendingVerdicts {
				t.Fatalf("queue holds %d verdicts in %d slots, bound %d", n, slots, maxPendingVerdicts)
			}
			want := whole.result()
			if got := trackSplit(seed, maxHead, data, cuts...); !got.equal(want) {
				t.Fatalf("cuts %v: got %+v, want %+v; input %q", cuts, got, want, data)
			}
			if _, got := trackBytes(seed, maxHead, data); !got.equal(want) {
				t.Fatalf("byte by byte: got %+v, want %+v; input %q", got, want, data)
			}
		}
		compareWithGo(t, seed, data)
	})
}
