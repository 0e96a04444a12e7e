package runner

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The authorizer the runner plays (see local/CONTRACT.md).
const (
	JWTIssuer   = "contacts-local"
	JWTAudience = "contacts-api"
)

// LoadOrCreateKey reads the RS256 signing key (PKCS#8 PEM) at path, creating
// it with mode 0600 when it does not exist.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("signing key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not an RSA key", path)
	}
	return rk, nil
}

func createKey(path string) (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key dir: %w", err)
	}
	// O_EXCL: when the runner and `make token` race, one of them wins and the
	// other reads the winner's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		for range 50 {
			if b, rerr := os.ReadFile(path); rerr == nil && len(b) > 0 {
				time.Sleep(20 * time.Millisecond) // let the writer finish
				return LoadOrCreateKey(path)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return nil, fmt.Errorf("signing key %s exists but is empty", path)
	}
	if err != nil {
		return nil, fmt.Errorf("create signing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return k, nil
}

// TokenClaims are the claims of a local bearer token.
type TokenClaims struct {
	Subject string
	Email   string
	Site    string
	Role    string
	TZ      string // optional IANA time zone
	TTL     time.Duration
}

// SignToken issues an RS256 token the local authorizer accepts.
func SignToken(key *rsa.PrivateKey, c TokenClaims, now time.Time) (string, error) {
	if c.TTL <= 0 {
		c.TTL = 12 * time.Hour
	}
	claims := jwt.MapClaims{
		"iss":  JWTIssuer,
		"aud":  JWTAudience,
		"sub":  c.Subject,
		"iat":  now.Unix(),
		"nbf":  now.Unix(),
		"exp":  now.Add(c.TTL).Unix(),
		"site": c.Site,
		"role": c.Role,
	}
	if c.Email != "" {
		claims["email"] = c.Email
	}
	if c.TZ != "" {
		claims["tz"] = c.TZ
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = "contacts-local"
	return t.SignedString(key)
}

// authorizer verifies bearer tokens like API Gateway's JWT authorizer.
type authorizer struct {
	pub    *rsa.PublicKey
	parser *jwt.Parser
}

func newAuthorizer(pub *rsa.PublicKey) *authorizer {
	return &authorizer{pub: pub, parser: jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(JWTIssuer),
		jwt.WithAudience(JWTAudience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(0),
	)}
}

// verify checks an Authorization header value and returns the claims as
// API Gateway passes them (strings) and the scopes.
func (a *authorizer) verify(header string) (map[string]string, []string, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		// API Gateway also accepts the bare token; the prefix is case-insensitive.
		if len(header) > 7 && strings.EqualFold(header[:7], "bearer ") {
			raw = header[7:]
		} else {
			raw = header
		}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil, errors.New("no token")
	}
	claims := jwt.MapClaims{}
	_, err := a.parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return a.pub, nil })
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = claimString(v)
	}
	var scopes []string
	if s, ok := claims["scope"].(string); ok && s != "" {
		scopes = strings.Fields(s)
	}
	return out, scopes, nil
}

// claimString renders a claim the way API Gateway's JWT authorizer does:
// numbers without exponent, arrays as "[a b]".
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + claimString(x[k])
		}
		return "map[" + strings.Join(parts, " ") + "]"
	default:
		return fmt.Sprint(x)
	}
}
