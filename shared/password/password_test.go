package password

import (
	"strings"
	"testing"
)

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "horse") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := Verify(h, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := Verify(h, "correct horse battery stapler"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := Hash("correct horse battery staple")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if _, err := Verify("$argon2id$v=19$m=999999999,t=1,p=1$AAAA$AAAA", "x"); err == nil {
		t.Fatal("a hash asking for absurd memory was accepted")
	}
	if _, err := Verify(dummy, "anything"); err != nil {
		t.Fatalf("the dummy hash does not parse, so VerifyNone would cost nothing: %v", err)
	}
	if VerifyNone("anything") {
		t.Fatal("VerifyNone accepted")
	}
}

func TestProblem(t *testing.T) {
	tests := map[string]string{
		"short":                            "too_short",
		strings.Repeat("a", 129):           "too_long",
		"Ada@Example.com":                  "same_as_email",
		"a fine passphrase":                "",
		"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8": "invalid",
		"abc\x00defgh":                     "invalid",
		"\ufffdabcdefgh":                   "invalid",
		"        ":                         "blank",
	}
	for pw, want := range tests {
		if got := Problem(pw, "ada@example.com"); got != want {
			t.Errorf("Problem(%.20q) = %q, want %q", pw, got, want)
		}
	}
}
