package authn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is the shared test corpus beside the checkout.
const corpusDir = "../../../shared/corpus/suites/jwt"

// allAlgorithms lets the vector tests exercise the key checks alone: every
// algorithm Warden verifies is allowed, so only the key decides.
var allAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"}

func corpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	path := filepath.Join(corpusDir, rel)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("test corpus not found at %s; it lives beside the checkout", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// vectorKeySet builds the key set a verifier would be configured with from
// a test's keys: public halves only, and symmetric keys accepted because
// the vectors include HMAC cases.
func vectorKeySet(keys ...json.RawMessage) (*keySet, error) {
	doc, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		return nil, err
	}
	set, _, err := parseKeySet(doc, keySetOptions{allowSymmetric: true})
	return set, err
}

// publicJWK drops the private members of an asymmetric JWK.
func publicJWK(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["kty"] != "oct" {
		for _, k := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			delete(m, k)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJOSECookbook verifies the JWS examples of RFC 7520 with their keys.
// Examples in JSON serialization are checked in the compact form of each
// signature that has a protected header. The signing input of a JWS does
// not include the unprotected header, so the signature still verifies.
func TestJOSECookbook(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "rfc7520-jose-cookbook/jws/*.json"))
	files = append(files, filepath.Join(corpusDir, "rfc7520-jose-cookbook/curve25519/jws.json"))
	if len(files) == 1 {
		t.Skipf("test corpus not found at %s; it lives beside the checkout", corpusDir)
	}
	checked := 0
	for _, file := range files {
		var ex struct {
			Input struct {
				Payload string          `json:"payload"`
				Key     json.RawMessage `json:"key"`
			} `json:"input"`
			Output struct {
				Compact string `json:"compact"`
				JSON    struct {
					Payload    string `json:"payload"`
					Signatures []struct {
						Protected string `json:"protected"`
						Signature string `json:"signature"`
					} `json:"signatures"`
				} `json:"json"`
			} `json:"output"`
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &ex); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		// The multiple-signature example lists its keys in an array.
		var keys []json.RawMessage
		if err := json.Unmarshal(ex.Input.Key, &keys); err != nil {
			keys = []json.RawMessage{ex.Input.Key}
		}
		payload := b64([]byte(ex.Input.Payload))
		tokens := map[string]string{}
		if c := ex.Output.Compact; c != "" {
			// Detached content (RFC 7515, appendix F): put the payload back.
			if parts := strings.Split(c, "."); len(parts) == 3 && parts[1] == "" {
				c = parts[0] + "." + payload + "." + parts[2]
			}
			tokens["compact"] = c
		}
		for i, sig := range ex.Output.JSON.Signatures {
			if sig.Protected != "" {
				tokens["json signature "+string(rune('0'+i))] = sig.Protected + "." + payload + "." + sig.Signature
			}
		}
		for name, token := range tokens {
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				verified := false
				for _, k := range keys {
					set, err := vectorKeySet(publicJWK(t, k))
					if err != nil {
						continue
					}
					if got, err := verifyCompact(token, set, allAlgorithms); err == nil {
						verified = string(got) == ex.Input.Payload
					}
				}
				if !verified {
					t.Errorf("example did not verify with its keys")
				}
			})
			checked++
		}
	}
	if checked < 8 {
		t.Errorf("checked %d cookbook signatures, want at least 8", checked)
	}
}

// wycheproofSuite is the layout of the Wycheproof JWS and JWK files.
type wycheproofSuite struct {
	TestGroups []struct {
		Comment string          `json:"comment"`
		Public  json.RawMessage `json:"public"`
		Private json.RawMessage `json:"private"`
		Tests   []struct {
			ID      int    `json:"tcId"`
			Comment string `json:"comment"`
			JWS     string `json:"jws"`
			Result  string `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// stricterThanWycheproof lists vectors marked valid that Warden rejects on
// purpose, with the reason.
var stricterThanWycheproof = map[string]map[int]string{
	"json_web_signature_test.json": {
		346: `the key declares alg "PS256" and the token is PS384; a key's alg restricts it to that algorithm (RFC 7517, section 4.4)`,
		350: `the key declares alg "PS256" and the token is PS384; a key's alg restricts it to that algorithm (RFC 7517, section 4.4)`,
		347: `the key declares alg "ES521", which is no JWS algorithm (ES512 is), so it never verifies ES512 tokens`,
		351: `the key declares alg "ES521", which is no JWS algorithm (ES512 is), so it never verifies ES512 tokens`,
		372: "a '?' in the encoded header is not base64url; the signing input is the encoded text as sent (RFC 7515, section 5.2)",
		373: "a '?' in the encoded payload is not base64url; the signing input is the encoded text as sent (RFC 7515, section 5.2)",
	},
}

func TestWycheproof(t *testing.T) {
	for _, file := range []string{"json_web_signature_test.json", "json_web_key_test.json"} {
		t.Run(file, func(t *testing.T) {
			var suite wycheproofSuite
			if err := json.Unmarshal(corpusFile(t, "wycheproof/"+file), &suite); err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, g := range suite.TestGroups {
				set, setErr := wycheproofKeySet(t, g.Public, g.Private)
				valid := map[string]int{}
				for _, tc := range g.Tests {
					if tc.Result == "valid" {
						valid[tc.JWS] = tc.ID
					}
				}
				for _, tc := range g.Tests {
					total++
					want := tc.Result == "valid"
					if id, ok := valid[tc.JWS]; ok && !want {
						t.Logf("tcId %d (%s): skipped: its jws is the same text as valid tcId %d in this copy of the suite", tc.ID, tc.Comment, id)
						continue
					}
					if reason, ok := stricterThanWycheproof[file][tc.ID]; ok {
						t.Logf("tcId %d (%s): expected to be rejected: %s", tc.ID, tc.Comment, reason)
						want = false
					}
					var err error
					if setErr != nil {
						err = setErr
					} else {
						_, err = verifyCompact(tc.JWS, set, allAlgorithms)
					}
					if got := err == nil; got != want {
						t.Errorf("tcId %d %s (%s): verified = %v, want %v (error: %v)", tc.ID, g.Comment, tc.Comment, got, want, err)
					}
				}
			}
			if total == 0 {
				t.Error("no test vectors read")
			}
		})
	}
}

// wycheproofKeySet builds the verifier's key set of a test group: its
// public key or key set, or the private one for symmetric keys.
func wycheproofKeySet(t *testing.T, public, private json.RawMessage) (*keySet, error) {
	t.Helper()
	raw := public
	if raw == nil {
		raw = private
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Keys == nil {
		doc.Keys = []json.RawMessage{raw}
	}
	for i, k := range doc.Keys {
		doc.Keys[i] = publicJWK(t, k)
	}
	return vectorKeySet(doc.Keys...)
}

// TestPublishedPrivateKeyRejected loads a JWKS that publishes an RSA
// private key (crAPI's, vulnerable on purpose): the key must not be used.
func TestPublishedPrivateKeyRejected(t *testing.T) {
	data := corpusFile(t, "crapi-jwks.json")
	set, skipped, err := parseKeySet(data, keySetOptions{})
	if err == nil {
		t.Fatalf("parseKeySet accepted a JWKS with a private key: %d keys", len(set.byKID)+len(set.noKID))
	}
	if len(skipped) == 0 || !strings.Contains(skipped[0].Error(), "private key material") {
		t.Errorf("skipped = %v, want a private key error", skipped)
	}
}
