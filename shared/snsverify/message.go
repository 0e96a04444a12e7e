// Package snsverify parses the messages Amazon SNS posts to an HTTPS
// subscription and verifies them as AWS documents ("Verifying the signatures
// of Amazon SNS messages"): the string to sign built from a fixed list of keys
// per message type, SignatureVersion 1 (SHA1withRSA) or 2 (SHA256withRSA), a
// signing certificate fetched only from an SNS host in some region, and a
// topic on an allow-list.
//
// What is trusted: the certificate is fetched over HTTPS from a host pinned to
// sns.<region>.amazonaws.com(.cn), so TLS to that host vouches for it; the
// certificate's own chain is not walked (SNS serves the leaf alone), which is
// what the AWS SDKs' validators do too.
package snsverify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The message types SNS posts to an HTTP(S) endpoint.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// Message is one SNS HTTP(S) message. Field names follow the JSON keys SNS
// sends; MessageID is the "MessageId" key.
type Message struct {
	Type             string
	MessageID        string
	TopicArn         string
	Subject          string
	Message          string
	Timestamp        string
	Token            string
	SubscribeURL     string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	UnsubscribeURL   string

	hasSubject bool // Subject is signed only when the key is present
}

// IsConfirmation reports whether m is a SubscriptionConfirmation or an
// UnsubscribeConfirmation (same keys, same string to sign).
func (m *Message) IsConfirmation() bool {
	return m.Type == TypeSubscriptionConfirmation || m.Type == TypeUnsubscribeConfirmation
}

// Parse errors. ErrMalformedJSON: the body is not one JSON object of string
// values with distinct keys. ErrMalformedMessage: it is, but not an SNS
// message (unknown Type, a key its type needs is missing).
var (
	ErrMalformedJSON    = errors.New("snsverify: malformed JSON")
	ErrMalformedMessage = errors.New("snsverify: not an SNS message")
)

// fields maps each key SNS sends, in its exact spelling, to where it goes.
var fields = map[string]func(m *Message) *string{
	"Type":             func(m *Message) *string { return &m.Type },
	"MessageId":        func(m *Message) *string { return &m.MessageID },
	"TopicArn":         func(m *Message) *string { return &m.TopicArn },
	"Subject":          func(m *Message) *string { return &m.Subject },
	"Message":          func(m *Message) *string { return &m.Message },
	"Timestamp":        func(m *Message) *string { return &m.Timestamp },
	"Token":            func(m *Message) *string { return &m.Token },
	"SubscribeURL":     func(m *Message) *string { return &m.SubscribeURL },
	"SignatureVersion": func(m *Message) *string { return &m.SignatureVersion },
	"Signature":        func(m *Message) *string { return &m.Signature },
	"SigningCertURL":   func(m *Message) *string { return &m.SigningCertURL },
	"UnsubscribeURL":   func(m *Message) *string { return &m.UnsubscribeURL },
}

// Parse reads an SNS message from an HTTP body.
//
// It is stricter than encoding/json on purpose, so that what is verified is
// what a consumer of the same bytes will read: the body must be valid UTF-8
// and exactly one JSON object; a key may appear once (compared without case,
// since encoding/json matches struct fields without case); a key that differs
// from one SNS sends only by case is refused; the keys SNS signs must be
// strings. Other keys (MessageAttributes, say) are allowed and ignored.
func Parse(body []byte) (*Message, error) {
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrMalformedJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedJSON)
	}
	m := &Message{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedJSON, err)
		}
		key := tok.(string) // object keys are always strings
		folded := strings.ToLower(key)
		if seen[folded] {
			return nil, fmt.Errorf("%w: key %q appears twice", ErrMalformedJSON, key)
		}
		seen[folded] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedJSON, err)
		}
		field, known := fields[key]
		if !known {
			if isKnownFolded(folded) {
				return nil, fmt.Errorf("%w: key %q is not spelled as SNS spells it", ErrMalformedJSON, key)
			}
			continue
		}
		if key == "Subject" && string(raw) == "null" {
			continue // treated as absent
		}
		if err := json.Unmarshal(raw, field(m)); err != nil {
			return nil, fmt.Errorf("%w: %s is not a string", ErrMalformedJSON, key)
		}
		if key == "Subject" {
			m.hasSubject = true
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("%w: %v", ErrMalformedJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: more than one JSON value", ErrMalformedJSON)
	}
	return m, m.checkKeys()
}

func isKnownFolded(folded string) bool {
	for k := range fields {
		if strings.ToLower(k) == folded {
			return true
		}
	}
	return false
}

// checkKeys refuses a message without the keys its type signs.
func (m *Message) checkKeys() error {
	required := []struct{ name, value string }{
		{"MessageId", m.MessageID}, {"TopicArn", m.TopicArn}, {"Message", m.Message},
		{"Timestamp", m.Timestamp}, {"SignatureVersion", m.SignatureVersion},
		{"Signature", m.Signature}, {"SigningCertURL", m.SigningCertURL},
	}
	switch {
	case m.Type == TypeNotification:
	case m.IsConfirmation():
		required = append(required, struct{ name, value string }{"Token", m.Token}, struct{ name, value string }{"SubscribeURL", m.SubscribeURL})
	case m.Type == "":
		return fmt.Errorf("%w: no Type", ErrMalformedMessage)
	default:
		return fmt.Errorf("%w: unknown Type %.40q", ErrMalformedMessage, m.Type)
	}
	var missing []string
	for _, r := range required {
		if r.value == "" {
			missing = append(missing, r.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s without %s", ErrMalformedMessage, m.Type, strings.Join(missing, ", "))
	}
	return nil
}

// StringToSign returns the bytes SNS signed: for each key of the message's
// type, in this fixed order, the key, a newline, the value, a newline.
//
//	Notification:                  Message, MessageId, Subject (only if present), Timestamp, TopicArn, Type
//	Subscription/Unsubscribe-      Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type
//	Confirmation:
func (m *Message) StringToSign() []byte {
	var b bytes.Buffer
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.IsConfirmation() {
		add("SubscribeURL", m.SubscribeURL)
		add("Timestamp", m.Timestamp)
		add("Token", m.Token)
	} else {
		if m.hasSubject {
			add("Subject", m.Subject)
		}
		add("Timestamp", m.Timestamp)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.Bytes()
}
