package runner

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

func testRoutes() []Route {
	return []Route{
		{Function: "List", Method: "GET", Path: "/contacts"},
		{Function: "Get", Method: "GET", Path: "/contacts/{id}"},
		{Function: "Tags", Method: "GET", Path: "/contacts/tags"},
		{Function: "DeleteNote", Method: "DELETE", Path: "/contacts/{id}/notes/{noteId}"},
		{Function: "Files", Method: "ANY", Path: "/files/{proxy+}"},
		{Function: "FilesGet", Method: "GET", Path: "/files/{proxy+}"},
		{Function: "Readme", Method: "GET", Path: "/files/readme"},
	}
}

func TestRouterFind(t *testing.T) {
	r := NewRouter(testRoutes())
	tests := []struct {
		method, path string
		want         string
		params       map[string]string
	}{
		{"GET", "/contacts", "List", map[string]string{}},
		{"GET", "/contacts/", "List", map[string]string{}},
		{"GET", "/contacts/c1", "Get", map[string]string{"id": "c1"}},
		{"GET", "/contacts/a%20b", "Get", map[string]string{"id": "a b"}},
		{"GET", "/contacts/tags", "Tags", map[string]string{}}, // literal beats {id}
		{"DELETE", "/contacts/c1/notes/n1", "DeleteNote", map[string]string{"id": "c1", "noteId": "n1"}},
		{"PUT", "/files/a/b/c", "Files", map[string]string{"proxy": "a/b/c"}},
		{"GET", "/files/a/b", "FilesGet", map[string]string{"proxy": "a/b"}}, // exact method beats ANY
		{"GET", "/files/readme", "Readme", map[string]string{}},              // literal beats greedy
		{"POST", "/contacts/c1", "", nil},
		{"GET", "/files", "", nil}, // {proxy+} needs a segment
		{"GET", "/nope", "", nil},
		{"GET", "/contacts/c1/notes", "", nil},
	}
	for _, tt := range tests {
		m, ok := r.Find(tt.method, tt.path)
		if tt.want == "" {
			if ok {
				t.Errorf("%s %s matched %s, want no route", tt.method, tt.path, m.Route.Function)
			}
			continue
		}
		if !ok || m.Route.Function != tt.want || !reflect.DeepEqual(m.PathParams, tt.params) {
			t.Errorf("%s %s = %s %v (ok=%v), want %s %v", tt.method, tt.path, m.Route.Function, m.PathParams, ok, tt.want, tt.params)
		}
	}
}

func TestBuildEvent(t *testing.T) {
	req := httptest.NewRequest("POST", "http://127.0.0.1:3000/contacts/c1?tag=a&tag=b&q=x%20y", strings.NewReader(`{"a":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Set("User-Agent", "test-agent")
	req.Header.Add("Cookie", "a=1; b=2")
	req.Header.Add("Cookie", "c=3")
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	m := Match{Route: Route{Method: "POST", Path: "/contacts/{id}"}, PathParams: map[string]string{"id": "c1"}}
	ev := BuildEvent(req, []byte(`{"a":1}`), m, "req-1", now)

	if ev.Version != "2.0" || ev.RouteKey != "POST /contacts/{id}" || ev.RawPath != "/contacts/c1" {
		t.Errorf("version/routeKey/rawPath = %q %q %q", ev.Version, ev.RouteKey, ev.RawPath)
	}
	if ev.RawQueryString != "tag=a&tag=b&q=x%20y" {
		t.Errorf("rawQueryString = %q", ev.RawQueryString)
	}
	if want := map[string]string{"tag": "a,b", "q": "x y"}; !reflect.DeepEqual(ev.QueryStringParameters, want) {
		t.Errorf("query = %v, want %v", ev.QueryStringParameters, want)
	}
	if ev.Headers["x-multi"] != "one,two" || ev.Headers["content-type"] != "application/json" || ev.Headers["user-agent"] != "test-agent" {
		t.Errorf("headers = %v", ev.Headers)
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("cookie header kept; API Gateway moves it to cookies")
	}
	if want := []string{"a=1", "b=2", "c=3"}; !reflect.DeepEqual(ev.Cookies, want) {
		t.Errorf("cookies = %v, want %v", ev.Cookies, want)
	}
	if ev.Body != `{"a":1}` || ev.IsBase64Encoded {
		t.Errorf("body = %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
	rc := ev.RequestContext
	if rc.Stage != "$default" || rc.RequestID != "req-1" || rc.RouteKey != "POST /contacts/{id}" ||
		rc.HTTP.Method != "POST" || rc.HTTP.Path != "/contacts/c1" || rc.HTTP.UserAgent != "test-agent" ||
		rc.HTTP.Protocol != "HTTP/1.1" || rc.TimeEpoch != now.UnixMilli() || rc.Time != "04/Mar/2025:05:06:07 +0000" ||
		rc.DomainName != "127.0.0.1" || rc.AccountID == "" || rc.APIID == "" || rc.HTTP.SourceIP == "" {
		t.Errorf("requestContext = %+v", rc)
	}

	// The JSON shape is what aws-lambda-go decodes.
	b, _ := json.Marshal(ev)
	var back events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &back); err != nil || back.PathParameters["id"] != "c1" {
		t.Errorf("round trip: %v %v", err, back.PathParameters)
	}
}

func TestBuildEventBase64(t *testing.T) {
	tests := []struct {
		contentType string
		body        []byte
		base64      bool
	}{
		{"application/json; charset=utf-8", []byte(`{}`), false},
		{"text/plain", []byte("hi"), false},
		{"application/problem+json", []byte(`{}`), false},
		{"application/octet-stream", []byte{0, 1, 2}, true},
		{"image/png", []byte("png"), true},
		{"application/x-www-form-urlencoded", []byte("a=1"), true},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", "/x", nil)
		req.Header.Set("Content-Type", tt.contentType)
		ev := BuildEvent(req, tt.body, Match{Route: Route{Method: "POST", Path: "/x"}}, "id", time.Now())
		if ev.IsBase64Encoded != tt.base64 {
			t.Errorf("%s: isBase64Encoded = %v", tt.contentType, ev.IsBase64Encoded)
		}
		got := []byte(ev.Body)
		if tt.base64 {
			got, _ = base64.StdEncoding.DecodeString(ev.Body)
		}
		if string(got) != string(tt.body) {
			t.Errorf("%s: body = %q", tt.contentType, ev.Body)
		}
	}
}

func TestWriteResponse(t *testing.T) {
	out, _ := json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode:        202,
		Headers:           map[string]string{"Content-Type": "image/png", "ETag": `"v1"`},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Cookies:           []string{"s=1; HttpOnly", "t=2"},
		Body:              base64.StdEncoding.EncodeToString([]byte{0xff, 0}),
		IsBase64Encoded:   true,
	})
	w := httptest.NewRecorder()
	WriteResponse(w, out)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 202 || string(body) != "\xff\x00" || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Etag") != `"v1"` {
		t.Errorf("status %d body %q headers %v", res.StatusCode, body, res.Header)
	}
	if got := res.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"s=1; HttpOnly", "t=2"}) {
		t.Errorf("Set-Cookie = %v", got)
	}
	if got := res.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("X-Multi = %v", got)
	}

	// A result without statusCode is the body of a 200.
	w = httptest.NewRecorder()
	WriteResponse(w, []byte(`{"hello":"world"}`))
	if w.Code != 200 || w.Body.String() != `{"hello":"world"}` || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("bare result: %d %q", w.Code, w.Body.String())
	}
}

// fakeInvoker records invocations and answers with a fixed response.
type fakeInvoker struct {
	calls    []string
	payloads [][]byte
	out      []byte
	err      error
}

func (f *fakeInvoker) Invoke(_ context.Context, fn string, payload []byte) ([]byte, error) {
	f.calls = append(f.calls, fn)
	f.payloads = append(f.payloads, payload)
	return f.out, f.err
}

func newTestGateway(t *testing.T, inv Invoker) (*Gateway, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	routes := append(testRoutes(), Route{Function: "Form", Method: "POST", Path: "/forms", Public: true})
	return &Gateway{router: NewRouter(routes), invoker: inv, auth: newAuthorizer(&key.PublicKey),
		log: slog.New(slog.DiscardHandler), openAPI: "/nonexistent/openapi.json", now: time.Now}, key
}

func TestGatewayAuthorizer(t *testing.T) {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := TokenClaims{Subject: "u1", Email: "o@example.com", Site: "demo", Role: "owner", TZ: "Europe/Paris", TTL: time.Hour}
	inv := &fakeInvoker{out: []byte(`{"statusCode":200,"body":"ok"}`)}
	g, key := newTestGateway(t, inv)

	good, _ := SignToken(key, claims, now)
	expired, _ := SignToken(key, claims, now.Add(-2*time.Hour))
	badSig, _ := SignToken(otherKey, claims, now)
	wrongAud, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": JWTIssuer, "aud": "someone-else", "sub": "u1", "exp": now.Add(time.Hour).Unix()}).SignedString(key)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": JWTIssuer, "aud": JWTAudience, "sub": "u1"}).SignedString(key)
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": JWTIssuer, "aud": JWTAudience, "exp": now.Add(time.Hour).Unix()}).SignedString([]byte("secret"))

	tests := []struct {
		name, auth string
		status     int
	}{
		{"good", "Bearer " + good, 200},
		{"missing", "", 401},
		{"expired", "Bearer " + expired, 401},
		{"bad signature", "Bearer " + badSig, 401},
		{"wrong audience", "Bearer " + wrongAud, 401},
		{"no exp", "Bearer " + noExp, 401},
		{"hs256", "Bearer " + hs, 401},
		{"garbage", "Bearer abc.def.ghi", 401},
	}
	for _, tt := range tests {
		inv.calls = nil
		req := httptest.NewRequest("GET", "/contacts", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, w.Code, tt.status)
		}
		if tt.status == 401 {
			if w.Body.String() != `{"message":"Unauthorized"}` {
				t.Errorf("%s: body %q", tt.name, w.Body.String())
			}
			if len(inv.calls) != 0 {
				t.Errorf("%s: function invoked without a valid token", tt.name)
			}
		}
	}

	// The good token's claims reach the function as strings.
	inv.payloads = nil
	req := httptest.NewRequest("GET", "/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+good)
	g.ServeHTTP(httptest.NewRecorder(), req)
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(inv.payloads[0], &ev); err != nil {
		t.Fatal(err)
	}
	c := ev.RequestContext.Authorizer.JWT.Claims
	if c["sub"] != "u1" || c["site"] != "demo" || c["role"] != "owner" || c["email"] != "o@example.com" ||
		c["tz"] != "Europe/Paris" || c["aud"] != JWTAudience || c["iss"] != JWTIssuer || strings.ContainsAny(c["exp"], "e.") {
		t.Errorf("claims = %v", c)
	}

	// A public route needs no token.
	inv.calls = nil
	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest("POST", "/forms", strings.NewReader("{}")))
	if w.Code != 200 || len(inv.calls) != 1 {
		t.Errorf("public route: %d, calls %v", w.Code, inv.calls)
	}
}

func TestClaimString(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"s", "s"},
		{float64(1700000000), "1700000000"},
		{1.5, "1.5"},
		{true, "true"},
		{[]any{"a", "b"}, "[a b]"},
	}
	for _, tt := range tests {
		if got := claimString(tt.in); got != tt.want {
			t.Errorf("claimString(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGatewayNotFoundTooLargeAndErrors(t *testing.T) {
	inv := &fakeInvoker{}
	g, key := newTestGateway(t, inv)
	tok, _ := SignToken(key, TokenClaims{Subject: "u", Site: "s", Role: "owner"}, time.Now())

	w := httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest("GET", "/nowhere", nil))
	if w.Code != 404 || w.Body.String() != `{"message":"Not Found"}` || w.Header().Get("Apigw-Requestid") == "" {
		t.Errorf("no route: %d %q", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	g.ServeHTTP(w, httptest.NewRequest("GET", "/openapi.json", nil))
	if w.Code != 404 {
		t.Errorf("missing openapi.json: %d", w.Code)
	}

	big := strings.NewReader(strings.Repeat("x", MaxRequestBody+1))
	req := httptest.NewRequest("POST", "/forms", big)
	w = httptest.NewRecorder()
	g.ServeHTTP(w, req)
	if w.Code != 413 || len(inv.calls) != 0 {
		t.Errorf("10 MiB + 1: %d, calls %v", w.Code, inv.calls)
	}

	for _, tt := range []struct {
		err    error
		status int
	}{{ErrTimeout, 504}, {ErrFunction, 502}} {
		inv.err = tt.err
		req := httptest.NewRequest("GET", "/contacts", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != tt.status {
			t.Errorf("%v: status %d, want %d", tt.err, w.Code, tt.status)
		}
	}
}
