package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/creator-platform/contacts/local/runner"
)

// TestPrintsOnlyTheToken checks what `TOKEN=$(make -s token ...)` relies on:
// stdout is one token and a newline, signed with the key it created.
func TestPrintsOnlyTheToken(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "token")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-root", dir, "-site", "demo", "-role", "admin", "-email", "a@example.com", "-tz", "Europe/Paris")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	s := string(out)
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") || strings.Count(s, ".") != 2 {
		t.Fatalf("stdout = %q, want one JWT and a newline", s)
	}
	keyPath := filepath.Join(dir, ".local", "jwt", "private.pem")
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key %v mode %v", err, st)
	}
	key, err := runner.LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(strings.TrimSpace(s), claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithIssuer(runner.JWTIssuer), jwt.WithAudience(runner.JWTAudience), jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		t.Fatal(err)
	}
	if claims["site"] != "demo" || claims["role"] != "admin" || claims["email"] != "a@example.com" || claims["tz"] != "Europe/Paris" || claims["sub"] == "" {
		t.Errorf("claims = %v", claims)
	}

	if err := exec.Command(bin, "-root", dir, "-role", "king").Run(); err == nil {
		t.Error("unknown role accepted")
	}
}
