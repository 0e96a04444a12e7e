package contacts

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/creator-platform/contacts/shared/apperr"
)

// Limits on stored values. They keep every item far below DynamoDB's 400 KB
// and a whole profile readable in one page.
const (
	MaxEmailLength    = 254 // RFC 5321 path limit
	MaxNameLength     = 200
	MaxPhoneLength    = 40
	MaxCompanyLength  = 200
	MaxAddressPart    = 200
	MaxNoteLength     = 5000
	MaxTagLength      = 64
	MaxTagsPerContact = 40
)

// NormalizeEmail returns the trimmed address as given (for display) and its
// key: Unicode NFC, lower-cased, the form uniqueness is decided on. Plus
// addressing is kept: grace+news@ and grace@ are different people.
func NormalizeEmail(raw string) (display, key string) {
	display = norm.NFC.String(strings.TrimSpace(raw))
	// NFKC folds look-alikes (full-width letters, ligatures) onto one key.
	return display, strings.ToLower(norm.NFKC.String(display))
}

// ValidEmail reports whether s (already trimmed) is a single bare address
// with a dotted domain. UTF-8 local parts and domains (RFC 6531) are allowed.
func ValidEmail(s string) bool {
	if s == "" || len(s) > MaxEmailLength || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		// Spaces, controls, invisible format characters (zero-width space,
		// byte-order mark, soft hyphen, direction overrides) and the
		// replacement character of undecodable input make no real address.
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return false
		}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, "[") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
	}
	return true
}

// CleanText trims s, turns control characters (tabs, newlines) into single
// spaces and normalizes it to NFC. Text is stored as given otherwise: a name
// that looks like a spreadsheet formula is just text to this API.
func CleanText(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// NormalizeTag lower-cases and trims a tag; tags compare case-insensitively.
func NormalizeTag(raw string) string {
	return strings.ToLower(CleanText(raw))
}

// ValidTag reports whether t (normalized) can be stored: 1 to 64 letters,
// digits, spaces and - _ . : characters.
func ValidTag(t string) bool {
	if t == "" || utf8.RuneCountInString(t) > MaxTagLength {
		return false
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" -_.:", r) {
			return false
		}
	}
	return true
}

// fieldChecker collects field errors so one response lists them all.
type fieldChecker struct{ fields []apperr.FieldError }

func (c *fieldChecker) add(field, code, message string) {
	c.fields = append(c.fields, apperr.FieldError{Field: field, Code: code, Message: message})
}

func (c *fieldChecker) maxLen(field, value string, max int) {
	if utf8.RuneCountInString(value) > max {
		c.add(field, "too_long", field+" must be at most "+strconv.Itoa(max)+" characters")
	}
}

func (c *fieldChecker) err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return apperr.Validation(c.fields...)
}

// nfc normalizes s to Unicode NFC without touching anything else (note
// bodies keep their line breaks).
func nfc(s string) string { return norm.NFC.String(s) }

// email normalizes a required address and checks it, returning its display
// form and its uniqueness key.
func (c *fieldChecker) email(field, raw string) (display, key string) {
	display, key = NormalizeEmail(raw)
	switch {
	case display == "":
		c.add(field, "required", field+" is required")
	case !ValidEmail(display):
		c.add(field, "invalid_email", field+" is not a valid address")
	}
	return display, key
}
