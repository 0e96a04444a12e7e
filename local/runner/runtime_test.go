package runner

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// echoBuild builds local/testdata/echo as every function's bootstrap, with
// the flags the Makefile uses.
func echoBuild(ctx context.Context, _ Function, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
		"-o", filepath.Join(dir, "bootstrap"), "../testdata/echo")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return errors.New(string(out))
	}
	return nil
}

type coldStarts struct {
	mu sync.Mutex
	d  map[string][]time.Duration
}

func (c *coldStarts) record(fn string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d[fn] = append(c.d[fn], d)
}

func (c *coldStarts) count(fn string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.d[fn])
}

func startTestRunner(t *testing.T, cold *coldStarts) *Runner {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("function binaries are built for linux")
	}
	dir := t.TempDir()
	r, err := Start(context.Background(), Config{
		Root:         dir,
		Template:     "../testdata/template.yaml",
		Addr:         "127.0.0.1:0",
		NoEmulator:   true,
		MaxInstances: 4,
		Build:        echoBuild,
		OnColdStart:  cold.record,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func do(t *testing.T, r *Runner, method, path, token string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, r.URL()+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "sid=abc")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestRuntimeThroughGateway(t *testing.T) {
	cold := &coldStarts{d: map[string][]time.Duration{}}
	r := startTestRunner(t, cold)
	tok, err := r.Token(TokenClaims{Subject: "u1", Site: "demo", Role: "owner", Email: "o@example.com"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("event and response", func(t *testing.T) {
		res, body := do(t, r, "GET", "/contacts/c%2F1?tag=a&tag=b", tok, nil)
		if res.StatusCode != 201 {
			t.Fatalf("status %d: %s", res.StatusCode, body)
		}
		if got := res.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "c1=v1; Path=/" {
			t.Errorf("Set-Cookie = %v", got)
		}
		if got := res.Header.Values("X-Multi"); len(got) != 2 {
			t.Errorf("X-Multi = %v", got)
		}
		if res.Header.Get("Apigw-Requestid") == "" {
			t.Error("no apigw-requestid header")
		}
		var got struct {
			Event events.APIGatewayV2HTTPRequest
			Env   map[string]string
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		ev := got.Event
		if ev.RouteKey != "GET /contacts/{id}" || ev.PathParameters["id"] != "c/1" || ev.QueryStringParameters["tag"] != "a,b" ||
			ev.Cookies[0] != "sid=abc" || ev.RequestContext.Authorizer.JWT.Claims["site"] != "demo" ||
			ev.RequestContext.RequestID != res.Header.Get("Apigw-Requestid") {
			t.Errorf("event = %+v", ev)
		}
		if got.Env["TABLE_NAME"] != "contacts-local" || got.Env["AWS_LAMBDA_FUNCTION_NAME"] != "EchoFunction" || got.Env["AWS_REGION"] != "us-east-1" {
			t.Errorf("env = %v", got.Env)
		}
	})

	t.Run("unauthorized never invokes", func(t *testing.T) {
		res, body := do(t, r, "GET", "/contacts/c1", "", nil)
		if res.StatusCode != 401 || string(body) != `{"message":"Unauthorized"}` {
			t.Errorf("status %d %s", res.StatusCode, body)
		}
	})

	t.Run("public route", func(t *testing.T) {
		res, body := do(t, r, "POST", "/public/forms/f1", "", strings.NewReader(`{"email":"x@example.com"}`))
		if res.StatusCode != 201 || !strings.Contains(string(body), `"form":"f1"`) {
			t.Errorf("status %d %s", res.StatusCode, body)
		}
	})

	t.Run("binary response", func(t *testing.T) {
		res, body := do(t, r, "GET", "/contacts/c1?binary=1", tok, nil)
		if res.StatusCode != 200 || string(body) != "\x00\x01\x02\xff" {
			t.Errorf("status %d body %q", res.StatusCode, body)
		}
	})

	t.Run("concurrent invocations use several instances", func(t *testing.T) {
		var wg sync.WaitGroup
		pids := make(chan string, 8)
		start := time.Now()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, _ := do(t, r, "GET", "/contacts/c1?sleep=300", tok, nil)
				pids <- res.Header.Get("X-Pid")
			}()
		}
		wg.Wait()
		close(pids)
		seen := map[string]bool{}
		for p := range pids {
			seen[p] = true
		}
		if len(seen) != 4 {
			t.Errorf("8 concurrent requests used %d instances, want the maximum of 4", len(seen))
		}
		// 8 x 300ms on 4 instances: two rounds, far less than 8 serial ones.
		if d := time.Since(start); d > 1800*time.Millisecond {
			t.Errorf("8 concurrent 300ms requests took %s", d)
		}
		if n := cold.count("EchoFunction"); n < 4 {
			t.Errorf("cold starts recorded = %d, want >= 4", n)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		res, body := do(t, r, "GET", "/contacts/c1?sleep=5000", tok, nil)
		if res.StatusCode != 504 || time.Since(start) > 4*time.Second {
			t.Errorf("status %d after %s: %s", res.StatusCode, time.Since(start), body)
		}
		res, _ = do(t, r, "GET", "/contacts/c1", tok, nil)
		if res.StatusCode != 201 {
			t.Errorf("after a timeout: status %d", res.StatusCode)
		}
	})

	t.Run("crash and error", func(t *testing.T) {
		for _, q := range []string{"crash=1", "fail=1"} {
			res, body := do(t, r, "GET", "/contacts/c1?"+q, tok, nil)
			if res.StatusCode != 502 || string(body) != `{"message":"Internal Server Error"}` {
				t.Errorf("%s: status %d %s", q, res.StatusCode, body)
			}
			res, _ = do(t, r, "GET", "/contacts/c1", tok, nil)
			if res.StatusCode != 201 {
				t.Errorf("after %s: status %d", q, res.StatusCode)
			}
		}
	})

	t.Run("invoke in process", func(t *testing.T) {
		payload, _ := json.Marshal(events.APIGatewayV2HTTPRequest{RouteKey: "GET /x", RawPath: "/x"})
		out, err := r.Invoke(context.Background(), "ProxyFunction", payload)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 201 {
			t.Errorf("invoke = %s (%v)", out, err)
		}
		if _, err := r.Invoke(context.Background(), "NoSuchFunction", payload); err == nil {
			t.Error("unknown function invoked")
		}
	})

	t.Run("cold start after StopInstances", func(t *testing.T) {
		before := len(r.ColdStarts()["ProxyFunction"])
		if err := r.StopInstances("ProxyFunction"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Invoke(context.Background(), "ProxyFunction", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		cs := r.ColdStarts()["ProxyFunction"]
		if len(cs) != before+1 || cs[len(cs)-1] <= 0 || cs[len(cs)-1] > 5*time.Second {
			t.Errorf("cold starts = %v, want one more than %d", cs, before)
		}
	})
}
