package clientip

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

var forwardedSeeds = []string{
	"for=203.0.113.9",
	`for=192.0.2.43, for="[2001:db8:cafe::17]:4711";by=10.0.0.9`,
	"for=198.51.100.1;proto=https;host=shop.example.com, for=10.0.0.2",
	`for="_hidden:_port";proto=http`,
	`for=unknown, for="[fe80::1%25eth0]"`,
	`for=203.0.113.9;host="a\"b\\c"`,
	`for="x, for=203.0.113.9`,
	";;, ,;proto=HTTPS;ext=\"\xff\"",
	"for=203.0.113.9;for=1.2.3.4",
}

// FuzzForwarded checks that a parsed Forwarded line keeps its invariants
// and parses to the same elements once written back in canonical form.
func FuzzForwarded(f *testing.F) {
	for _, s := range forwardedSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var ring [maxHops]element
		n, ok := parseForwardedLine(line, &ring)
		if !ok {
			return
		}
		elems := ringElements(&ring, n)
		for _, e := range elems {
			checkElement(t, line, e)
		}

		canonical := formatForwarded(elems)
		var again [maxHops]element
		n2, ok := parseForwardedLine(canonical, &again)
		if !ok {
			t.Fatalf("canonical form %q of %q does not parse", canonical, line)
		}
		if n2 != len(elems) {
			t.Fatalf("canonical form %q of %q has %d elements, want %d", canonical, line, n2, len(elems))
		}
		for i, e := range ringElements(&again, n2) {
			if e != elems[i] {
				t.Fatalf("canonical form %q of %q: element %d = %+v, want %+v", canonical, line, i, e, elems[i])
			}
		}

		r, err := New([]string{"10.0.0.0/8"}, FromHeader(SourceForwarded))
		if err != nil {
			t.Fatal(err)
		}
		peer := netip.MustParseAddr("10.0.0.1")
		info := r.Resolve(peer, http.Header{"Forwarded": {line}})
		checkInfo(t, line, info)
	})
}

// ringElements returns the elements kept in ring, left to right.
func ringElements(ring *[maxHops]element, n int) []element {
	var out []element
	for i := max(0, n-maxHops); i < n; i++ {
		out = append(out, ring[i%maxHops])
	}
	return out
}

func checkElement(t *testing.T, line string, e element) {
	t.Helper()
	if (e.node == nodeAddr) != e.addr.IsValid() {
		t.Fatalf("%q: element %+v: node kind and address disagree", line, e)
	}
	if e.addr.IsValid() && (e.addr.Is4In6() || e.addr.Zone() != "") {
		t.Fatalf("%q: address %v is not normalized", line, e.addr)
	}
	if e.proto != "" && (e.proto != strings.ToLower(e.proto) || cleanProto(e.proto) != e.proto) {
		t.Fatalf("%q: proto %q is not a lower-case scheme", line, e.proto)
	}
	if e.host != "" && cleanHost(e.host) != e.host {
		t.Fatalf("%q: host %q is not a valid host", line, e.host)
	}
}

func checkInfo(t *testing.T, header string, info Info) {
	t.Helper()
	if !info.Client.IsValid() || info.Client.Is4In6() || info.Client.Zone() != "" {
		t.Fatalf("%q: client %v is invalid or not normalized", header, info.Client)
	}
	if info.Proto != "" && cleanProto(info.Proto) != info.Proto {
		t.Fatalf("%q: proto %q is not a lower-case scheme", header, info.Proto)
	}
	if info.Host != "" && cleanHost(info.Host) != info.Host {
		t.Fatalf("%q: host %q is not a valid host", header, info.Host)
	}
}

// formatForwarded writes elements in one canonical form: quoted values,
// brackets around IPv6, and ";" for an element without parameters.
func formatForwarded(elems []element) string {
	var b strings.Builder
	for i, e := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		var pairs []string
		switch e.node {
		case nodeAddr:
			if e.addr.Is4() {
				pairs = append(pairs, "for="+e.addr.String())
			} else {
				pairs = append(pairs, `for="[`+e.addr.String()+`]"`)
			}
		case nodeUnknown:
			pairs = append(pairs, "for=unknown")
		case nodeObfuscated:
			pairs = append(pairs, "for=_x")
		}
		if e.proto != "" {
			pairs = append(pairs, "proto="+e.proto)
		}
		if e.host != "" {
			escaped := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(e.host)
			pairs = append(pairs, `host="`+escaped+`"`)
		}
		if len(pairs) == 0 {
			b.WriteString(";") // an element of one empty pair
			continue
		}
		b.WriteString(strings.Join(pairs, ";"))
	}
	return b.String()
}

// FuzzXForwardedFor compares the right-to-left scan of X-Forwarded-For
// with a plain split of the joined header. Newlines in the input separate
// header lines.
func FuzzXForwardedFor(f *testing.F) {
	f.Add("203.0.113.9, 10.0.0.2")
	f.Add("1.2.3.4\n203.0.113.9,10.0.0.2,,")
	f.Add("[2001:db8::1]:443, ::ffff:10.0.0.3, 203.0.113.9:80")
	f.Add("unknown, 10.0.0.2")
	f.Add(" , \t,\n\n,fe80::1%eth0")
	f.Fuzz(func(t *testing.T, header string) {
		lines := strings.Split(header, "\n")
		r, err := New([]string{"10.0.0.0/8", "2001:db8::/32"})
		if err != nil {
			t.Fatal(err)
		}

		gotAddr, gotPos := r.walkXForwardedFor(lines)
		if len(header)+len(lines) < maxHeaderBytes {
			wantAddr, wantPos := referenceWalk(r, lines)
			if gotAddr != wantAddr || gotPos != wantPos {
				t.Fatalf("walk(%q) = %v at %d, want %v at %d", header, gotAddr, gotPos, wantAddr, wantPos)
			}
			entries := splitList(lines)
			for n := 1; n <= len(entries)+1 && n <= maxHops; n++ {
				got, ok := nthFromRight(lines, n)
				want, wantOK := "", n <= len(entries)
				if wantOK {
					want = entries[len(entries)-n]
				}
				if got != want || ok != wantOK {
					t.Fatalf("nthFromRight(%q, %d) = %q, %v, want %q, %v", header, n, got, ok, want, wantOK)
				}
			}
		}

		peer := netip.MustParseAddr("10.0.0.1")
		info := r.Resolve(peer, http.Header{"X-Forwarded-For": lines, "X-Forwarded-Proto": lines, "X-Forwarded-Host": lines})
		checkInfo(t, header, info)
	})
}

// referenceWalk is walkXForwardedFor written the obvious way, without the
// byte budget.
func referenceWalk(r *Resolver, lines []string) (netip.Addr, int) {
	entries := splitList(lines)
	var client netip.Addr
	pos := 0
	for hop := 1; hop <= maxHops && hop <= len(entries); hop++ {
		a, ok := parseXForwardedFor(entries[len(entries)-hop])
		if !ok {
			break
		}
		client, pos = a, hop
		if !r.Trusted(a) {
			break
		}
	}
	return client, pos
}

func splitList(lines []string) []string {
	var entries []string
	for _, part := range strings.Split(strings.Join(lines, ","), ",") {
		if part = strings.Trim(part, " \t"); part != "" {
			entries = append(entries, part)
		}
	}
	return entries
}
