package runner

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// MaxRequestBody is API Gateway HTTP API's request payload limit.
const MaxRequestBody = 10 << 20

// Router matches requests to the template's HttpApi routes the way API
// Gateway does: the most specific route wins (literal segments before
// {param}, {param} before {proxy+}), an exact method before ANY.
type Router struct {
	routes []compiledRoute
}

type compiledRoute struct {
	Route
	segs []string
}

// Match is a matched route with its path parameters.
type Match struct {
	Route      Route
	PathParams map[string]string
}

// NewRouter compiles routes.
func NewRouter(routes []Route) *Router {
	r := &Router{}
	for _, rt := range routes {
		r.routes = append(r.routes, compiledRoute{Route: rt, segs: splitPath(rt.Path)})
	}
	return r
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// segment ranks: higher is more specific.
const (
	rankGreedy  = 0
	rankParam   = 1
	rankLiteral = 2
)

// Find returns the best route for method and path, or false.
func (r *Router) Find(method, path string) (Match, bool) {
	segs := splitPath(path)
	var best *compiledRoute
	var bestRank []int
	var bestParams map[string]string
	for i := range r.routes {
		rt := &r.routes[i]
		if rt.Method != "ANY" && rt.Method != method {
			continue
		}
		params, rank, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		if rt.Method != "ANY" {
			rank = append(rank, 1)
		} else {
			rank = append(rank, 0)
		}
		if best == nil || rankLess(bestRank, rank) {
			best, bestRank, bestParams = rt, rank, params
		}
	}
	if best == nil {
		return Match{}, false
	}
	return Match{Route: best.Route, PathParams: bestParams}, true
}

func matchSegs(pattern, segs []string) (map[string]string, []int, bool) {
	params := map[string]string{}
	rank := make([]int, 0, len(pattern))
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			if i >= len(segs) {
				return nil, nil, false // API Gateway: {proxy+} needs at least one segment
			}
			params[p[1:len(p)-2]] = strings.Join(segs[i:], "/")
			return params, append(rank, rankGreedy), true
		}
		if i >= len(segs) {
			return nil, nil, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				v = segs[i]
			}
			params[p[1:len(p)-1]] = v
			rank = append(rank, rankParam)
			continue
		}
		if p != segs[i] {
			return nil, nil, false
		}
		rank = append(rank, rankLiteral)
	}
	if len(pattern) != len(segs) {
		return nil, nil, false
	}
	return params, rank, true
}

func rankLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// Invoker runs a function with a raw payload and returns its raw response.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Gateway is the http.Handler playing API Gateway HTTP API with a JWT authorizer.
type Gateway struct {
	router  *Router
	invoker Invoker
	auth    *authorizer
	log     *slog.Logger
	openAPI string // path of the OpenAPI document served at /openapi.json
	now     func() time.Time
	// emulatorURL is where GET /_local/outbox reads the emails SES accepted.
	emulatorURL string
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	reqID := apiRequestID()
	w.Header().Set("Apigw-Requestid", reqID)
	w.Header().Set("X-Request-Id", reqID)
	status := g.serve(w, r, reqID, start)
	g.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status,
		"request_id", reqID, "duration_ms", float64(g.now().Sub(start).Microseconds())/1000)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, reqID string, start time.Time) int {
	if r.URL.Path == "/openapi.json" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if _, ok := g.router.Find(r.Method, r.URL.Path); !ok {
			return g.serveOpenAPI(w, r)
		}
	}
	if r.URL.Path == OutboxPath && r.Method == http.MethodGet {
		return g.serveOutbox(w, r)
	}
	m, ok := g.router.Find(r.Method, r.URL.EscapedPath())
	if !ok {
		return writeMessage(w, http.StatusNotFound, "Not Found")
	}
	if r.ContentLength > MaxRequestBody {
		return writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		}
		return writeMessage(w, http.StatusBadRequest, "Bad Request")
	}
	var claims map[string]string
	var scopes []string
	if !m.Route.Public {
		claims, scopes, err = g.auth.verify(r.Header.Get("Authorization"))
		if err != nil {
			g.log.Debug("unauthorized", "request_id", reqID, "reason", err.Error())
			w.Header().Set("Www-Authenticate", `Bearer`)
			return writeMessage(w, http.StatusUnauthorized, "Unauthorized")
		}
	}
	ev := BuildEvent(r, body, m, reqID, start)
	if !m.Route.Public {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes},
		}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
	if len(payload) > maxPayload {
		return writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	}
	// Like API Gateway, a client that goes away does not stop the function:
	// the invocation is bounded by the function's timeout instead.
	out, err := g.invoker.Invoke(context.WithoutCancel(r.Context()), m.Route.Function, payload)
	switch {
	case errors.Is(err, ErrTimeout):
		return writeMessage(w, http.StatusGatewayTimeout, "Endpoint request timed out")
	case errors.Is(err, ErrFunction):
		return writeMessage(w, http.StatusBadGateway, "Internal Server Error")
	case err != nil:
		g.log.Error("invoke failed", "function", m.Route.Function, "request_id", reqID, "err", err)
		return writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
	return WriteResponse(w, out)
}

func (g *Gateway) serveOpenAPI(w http.ResponseWriter, r *http.Request) int {
	b, err := os.ReadFile(g.openAPI)
	if err != nil {
		return writeMessage(w, http.StatusNotFound, "Not Found")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
	return http.StatusOK
}

func writeMessage(w http.ResponseWriter, status int, msg string) int {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

// BuildEvent converts an HTTP request into an API Gateway HTTP API payload
// format 2.0 event (authorizer left empty).
func BuildEvent(r *http.Request, body []byte, m Match, reqID string, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	host := r.Host
	headers["host"] = host
	if _, ok := headers["x-forwarded-proto"]; !ok {
		headers["x-forwarded-proto"] = "http"
	}
	sourceIP, port, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	if _, ok := headers["x-amzn-trace-id"]; !ok {
		headers["x-amzn-trace-id"] = traceRoot(now)
	}
	if _, ok := headers["x-forwarded-for"]; !ok {
		headers["x-forwarded-for"] = sourceIP
	}
	if _, ok := headers["x-forwarded-port"]; !ok && port != "" {
		if _, p, err := net.SplitHostPort(host); err == nil {
			headers["x-forwarded-port"] = p
		}
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		vals, _ := url.ParseQuery(r.URL.RawQuery)
		if len(vals) > 0 {
			query = make(map[string]string, len(vals))
			for k, vs := range vals {
				query[k] = strings.Join(vs, ",")
			}
		}
	}
	var params map[string]string
	if len(m.PathParams) > 0 {
		params = m.PathParams
	}
	domain := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              m.Route.Key(),
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     m.Route.Key(),
			AccountID:    localAccount,
			Stage:        "$default",
			RequestID:    reqID,
			APIID:        "local",
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextContent(r.Header.Get("Content-Type"), body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isTextContent reports whether API Gateway would pass a body as text:
// text/*, JSON, XML and JavaScript types. Everything else (forms and binary
// types included) arrives base64-encoded.
func isTextContent(contentType string, body []byte) bool {
	if contentType == "" {
		return utf8.Valid(body)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/graphql":
		return true
	}
	return false
}

// WriteResponse translates a function's payload 2.0 response into HTTP.
// A response without statusCode is a body: 200, application/json.
func WriteResponse(w http.ResponseWriter, out []byte) int {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(out, &probe); err != nil || probe["statusCode"] == nil {
		if !json.Valid(out) {
			return writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		}
		body := out
		var s string
		if json.Unmarshal(out, &s) == nil {
			body = []byte(s)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return http.StatusOK
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
		return writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		}
		body = b
	}
	h := w.Header()
	keys := make([]string, 0, len(resp.MultiValueHeaders))
	for k := range resp.MultiValueHeaders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.MultiValueHeaders[k] {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return resp.StatusCode
}

// apiRequestID looks like API Gateway's apigw-requestid (e.g. "JQ4u4gM5IAMEb5g=").
func apiRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])[:14] + "="
}
