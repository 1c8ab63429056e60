package authn

import "math/big"

// rocaPrimes are the small primes of the ROCA fingerprint test (Nemec et
// al., "The Return of Coppersmith's Attack", CCS 2017). Keys made by the
// affected Infineon library have moduli N = k*M + (65537^a mod M), where M
// is a product of these primes, so N mod p lies in the subgroup that 65537
// generates modulo p for every one of them. A random modulus passes all of
// the tests with negligible probability.
var rocaPrimes = []int64{
	3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
	73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151,
	157, 163, 167,
}

// rocaSubgroups holds, for each prime of rocaPrimes, the residues that
// 65537 generates modulo it. It is computed once and only read afterwards.
var rocaSubgroups = func() []map[int64]bool {
	out := make([]map[int64]bool, len(rocaPrimes))
	for i, p := range rocaPrimes {
		set := map[int64]bool{}
		g := int64(65537) % p
		for x := int64(1); !set[x]; x = x * g % p {
			set[x] = true
		}
		out[i] = set
	}
	return out
}()

// rocaFingerprint reports whether the modulus n has the structure of a key
// generated with the ROCA weakness (CVE-2017-15361). Such keys can be
// factored, so a JWKS key that has it is rejected.
//
// It is written here because no maintained Go library offers the check. It
// is the published fingerprint test, a few lines of modular arithmetic.
func rocaFingerprint(n *big.Int) bool {
	var r big.Int
	for i, p := range rocaPrimes {
		r.Mod(n, big.NewInt(p))
		if !rocaSubgroups[i][r.Int64()] {
			return false
		}
	}
	return true
}
