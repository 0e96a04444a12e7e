// Package password hashes and checks member passwords with argon2id
// (golang.org/x/crypto/argon2), in the PHC string format, with the
// parameters OWASP's Password Storage Cheat Sheet recommends for argon2id
// (19 MiB of memory, 2 iterations, 1 degree of parallelism).
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Parameters of new hashes; verification reads them from the hash itself.
const (
	memoryKiB = 19 * 1024
	time      = 2
	threads   = 1
	keyLen    = 32
	saltLen   = 16
)

// Length limits for new passwords (OWASP: at least 8, allow long ones).
const (
	MinLength = 8
	MaxLength = 128
)

// Hash returns the argon2id hash of pw in PHC form:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, time, memoryKiB, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, time, threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// ErrMalformed is returned for a stored hash this package cannot read.
var ErrMalformed = errors.New("password: malformed hash")

// Verify reports whether pw matches the PHC hash, in constant time.
func Verify(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false, ErrMalformed
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformed
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false, ErrMalformed
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummy is a valid hash, with the parameters of new hashes, of a random
// password nobody kept: checking against it costs what checking a real one
// costs, so an unknown account takes as long as a wrong password. It is a
// constant, not computed at start-up: an argon2id hash at init would add
// tens of milliseconds to every function's cold start.
const dummy = "$argon2id$v=19$m=19456,t=2,p=1$iO3w+pP9hrB4ubQtW5kXNQ$wpV/4EoXRBkdvn6Sy46w0acz87KC9k2KBmIOF71T9ZI"

// VerifyNone spends the time of one verification and reports false: use it
// when there is no account, so timing does not tell.
func VerifyNone(pw string) bool {
	_, _ = Verify(dummy, pw)
	return false
}

// Problem says what is wrong with a new password for this email, or "".
func Problem(pw, email string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw) || strings.ContainsFunc(pw, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }):
		// Control characters, and the U+FFFD a broken surrogate decodes
		// to, would make different inputs the same password.
		return "invalid"
	case strings.TrimSpace(pw) == "" && pw != "":
		return "blank"
	case n < MinLength:
		return "too_short"
	case n > MaxLength:
		return "too_long"
	case email != "" && strings.EqualFold(strings.TrimSpace(pw), strings.TrimSpace(email)):
		return "same_as_email"
	}
	return ""
}
