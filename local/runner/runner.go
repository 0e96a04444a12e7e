// Package runner runs the stack described by template.yaml on one machine:
// it builds every function, runs each bootstrap as a child process speaking
// the Lambda Runtime API, serves the HttpApi routes as API Gateway would
// (payload format 2.0, JWT authorizer) and starts the AWS emulator.
package runner

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"
)

// BuildFunc builds fn's bootstrap into dir (an absolute path).
type BuildFunc func(ctx context.Context, fn Function, dir string) error

// Config says what to run and where. Zero values take the defaults below.
type Config struct {
	Root         string // repo root; default "."
	Template     string // default <Root>/template.yaml
	Addr         string // gateway address; default 127.0.0.1:3000 ("127.0.0.1:0" picks a port)
	EmulatorAddr string // default 127.0.0.1:4566
	// NoEmulator skips starting and using the emulator (tests of the
	// gateway and runtime only). Tables are not created.
	NoEmulator      bool
	EmulatorCommand string // default <Root>/.local/venv/bin/moto_server
	Persist         bool   // keep emulator state under <Root>/.local/moto across restarts
	// QueueVisibilityTimeout, when > 0, overrides every queue's
	// VisibilityTimeout (seconds) in the emulator, so that failed messages
	// come back (and reach the DLQ) in seconds instead of minutes.
	QueueVisibilityTimeout int
	MaxInstances           int           // per function; default 4
	KeyPath                string        // default <Root>/.local/jwt/private.pem
	OpenAPIPath            string        // default <Root>/shared/openapi/openapi.json
	BuildDir               string        // default <Root>/.local/build
	Build                  BuildFunc     // default: make build-<LogicalId>
	BuildJobs              int           // builds at once; default 2
	OnColdStart            ColdStartFunc // optional
	Logger                 *slog.Logger  // default slog.Default()
}

// Runner is a running local stack.
type Runner struct {
	cfg      Config
	log      *slog.Logger
	tmpl     *Template
	key      *rsa.PrivateKey
	pools    map[string]*pool
	gateway  *Gateway
	srv      *http.Server
	ln       net.Listener
	emulator *Emulator
	routes   int

	queueURLs   map[string]string
	topicARNs   map[string]string // by logical id
	stopPolling context.CancelFunc
	polling     sync.WaitGroup

	coldMu sync.Mutex
	cold   map[string][]time.Duration

	closeOnce sync.Once
}

func (c *Config) defaults() error {
	if c.Root == "" {
		c.Root = "."
	}
	root, err := filepath.Abs(c.Root)
	if err != nil {
		return err
	}
	c.Root = root
	if c.Template == "" {
		c.Template = filepath.Join(root, "template.yaml")
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:3000"
	}
	if c.EmulatorAddr == "" {
		c.EmulatorAddr = "127.0.0.1:4566"
	}
	if c.EmulatorCommand == "" {
		c.EmulatorCommand = filepath.Join(root, ".local", "venv", "bin", "moto_server")
	}
	if c.MaxInstances <= 0 {
		c.MaxInstances = 4
	}
	if c.KeyPath == "" {
		c.KeyPath = filepath.Join(root, ".local", "jwt", "private.pem")
	}
	if c.OpenAPIPath == "" {
		c.OpenAPIPath = filepath.Join(root, "shared", "openapi", "openapi.json")
	}
	if c.BuildDir == "" {
		c.BuildDir = filepath.Join(root, ".local", "build")
	}
	if c.BuildJobs <= 0 {
		c.BuildJobs = 2
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Build == nil {
		c.Build = MakeBuild(root)
	}
	for _, a := range []string{c.Addr, c.EmulatorAddr} {
		if err := loopbackOnly(a); err != nil {
			return err
		}
	}
	return nil
}

// existing returns path if a file is there, else "".
func existing(path string) string {
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("address %q: the runner listens on loopback only", addr)
	}
	return nil
}

// Start loads the template, starts the emulator (and creates the tables),
// builds every function and starts serving. Close stops everything.
func Start(ctx context.Context, cfg Config) (*Runner, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, pools: map[string]*pool{}, cold: map[string][]time.Duration{}}
	ok := false
	defer func() {
		if !ok {
			r.Close()
		}
	}()

	endpoint := "http://" + cfg.EmulatorAddr
	tmpl, err := LoadTemplate(cfg.Template, endpoint)
	if err != nil {
		return nil, err
	}
	r.tmpl = tmpl
	if r.key, err = LoadOrCreateKey(cfg.KeyPath); err != nil {
		return nil, err
	}

	if !cfg.NoEmulator {
		r.emulator = &Emulator{
			Addr:    cfg.EmulatorAddr,
			Command: cfg.EmulatorCommand,
			Wrapper: existing(filepath.Join(cfg.Root, "local", "emulator.py")),
			DataDir: filepath.Join(cfg.Root, ".local", "moto"),
			Persist: cfg.Persist,
			Log:     r.log,
		}
		if err := r.emulator.Start(ctx); err != nil {
			return nil, err
		}
		if err := r.emulator.CreateTables(ctx, tmpl.Tables); err != nil {
			return nil, err
		}
		if r.queueURLs, err = r.emulator.CreateQueues(ctx, tmpl.Queues, cfg.QueueVisibilityTimeout); err != nil {
			return nil, err
		}
		if err := r.emulator.ApplyQueuePolicies(ctx, tmpl.QueuePolicies, r.queueURLs); err != nil {
			return nil, err
		}
		if r.topicARNs, err = r.emulator.CreateTopics(ctx, tmpl.Topics); err != nil {
			return nil, err
		}
		if err := r.emulator.Subscribe(ctx, tmpl.Subscriptions); err != nil {
			return nil, err
		}
		if err := r.emulator.VerifyIdentities(ctx, tmpl.EmailIdentities); err != nil {
			return nil, err
		}
	}

	if err := r.buildAll(ctx); err != nil {
		return nil, err
	}
	var routes []Route
	for _, fn := range tmpl.Functions {
		bootstrap := filepath.Join(cfg.BuildDir, fn.Name, "bootstrap")
		r.pools[fn.Name] = newPool(fn, bootstrap, functionEnv(fn, endpoint), cfg.MaxInstances, r.log, r.recordColdStart)
		routes = append(routes, fn.Routes...)
	}
	r.routes = len(routes)
	r.gateway = &Gateway{
		router:  NewRouter(routes),
		invoker: r,
		auth:    newAuthorizer(&r.key.PublicKey),
		log:     r.log,
		openAPI: cfg.OpenAPIPath,
		now:     time.Now,
	}
	if r.emulator != nil {
		r.gateway.emulatorURL = "http://" + r.emulator.Addr
	}
	r.startPollers()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("gateway listen: %w", err)
	}
	r.ln = ln
	r.srv = &http.Server{Handler: r.gateway, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Error("gateway stopped", "err", err)
		}
	}()
	ok = true
	return r, nil
}

// startPollers starts one poller per SQS event source (with an emulator).
func (r *Runner) startPollers() {
	if r.emulator == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stopPolling = cancel
	for _, fn := range r.tmpl.Functions {
		for _, q := range fn.Queues {
			url, ok := r.queueURLs[q.Queue]
			if !ok {
				r.log.Warn("SQS event source names a queue outside the template; not polled", "function", fn.Name, "queue", q.Queue)
				continue
			}
			p := &poller{emu: r.emulator, invoker: r, function: fn.Name, event: q, url: url, log: r.log}
			r.polling.Add(1)
			go p.run(ctx, &r.polling)
		}
	}
}

// MakeBuild builds with the repo's Makefile: make build-<LogicalId>
// ARTIFACTS_DIR=<dir> GOARCH=<host arch>.
func MakeBuild(root string) BuildFunc {
	return func(ctx context.Context, fn Function, dir string) error {
		cmd := exec.CommandContext(ctx, "make", "-s", "build-"+fn.Name, "ARTIFACTS_DIR="+dir, "GOARCH="+runtime.GOARCH)
		cmd.Dir = root
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("make build-%s: %w\n%s", fn.Name, err, out)
		}
		return nil
	}
}

func (r *Runner) buildAll(ctx context.Context) error {
	start := time.Now()
	sem := make(chan struct{}, r.cfg.BuildJobs)
	errs := make([]error, len(r.tmpl.Functions))
	var wg sync.WaitGroup
	for i, fn := range r.tmpl.Functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			dir := filepath.Join(r.cfg.BuildDir, fn.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				errs[i] = err
				return
			}
			if err := r.cfg.Build(ctx, fn, dir); err != nil {
				errs[i] = err
				return
			}
			if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
				errs[i] = fmt.Errorf("build %s: no bootstrap in %s", fn.Name, dir)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.log.Info("functions built", "count", len(r.tmpl.Functions), "duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// Invoke runs the function with logical id name on payload, like a
// synchronous Lambda Invoke, and returns the raw response payload. Errors
// wrap ErrTimeout or ErrFunction.
func (r *Runner) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	p, ok := r.pools[name]
	if !ok {
		return nil, fmt.Errorf("no function %q in the template", name)
	}
	return p.invoke(ctx, payload)
}

// URL is the gateway's base URL, e.g. http://127.0.0.1:3000.
func (r *Runner) URL() string { return "http://" + r.ln.Addr().String() }

// Handler is the gateway as an http.Handler (for in-process tests).
func (r *Runner) Handler() http.Handler { return r.gateway }

// Functions lists the functions' logical ids.
func (r *Runner) Functions() []string {
	names := make([]string, 0, len(r.pools))
	for n := range r.pools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Routes is the number of HttpApi routes served.
func (r *Runner) Routes() int { return r.routes }

// EmulatorURL is the emulator endpoint the functions use ("" without one).
func (r *Runner) EmulatorURL() string {
	if r.emulator == nil {
		return ""
	}
	return "http://" + r.emulator.Addr
}

// ColdStarts returns, per function, the cold starts measured so far: the
// time from each instance's process start to its first /next call.
func (r *Runner) ColdStarts() map[string][]time.Duration {
	r.coldMu.Lock()
	defer r.coldMu.Unlock()
	out := make(map[string][]time.Duration, len(r.cold))
	for k, v := range r.cold {
		out[k] = append([]time.Duration(nil), v...)
	}
	return out
}

// StopInstances stops every instance of a function (waiting for running
// invocations is not done: use it between requests), so that the next
// invocation is a cold start again.
func (r *Runner) StopInstances(name string) error {
	p, ok := r.pools[name]
	if !ok {
		return fmt.Errorf("no function %q in the template", name)
	}
	p.close(2 * time.Second)
	return nil
}

func (r *Runner) recordColdStart(fn string, d time.Duration) {
	r.coldMu.Lock()
	r.cold[fn] = append(r.cold[fn], d)
	r.coldMu.Unlock()
	if r.cfg.OnColdStart != nil {
		r.cfg.OnColdStart(fn, d)
	}
}

// Token signs a token for c with the runner's key.
func (r *Runner) Token(c TokenClaims) (string, error) { return SignToken(r.key, c, time.Now()) }

// Close stops the gateway, every function instance and the emulator if the
// runner started it, each with a bounded wait.
func (r *Runner) Close() {
	r.closeOnce.Do(func() {
		if r.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_ = r.srv.Shutdown(ctx)
			cancel()
			_ = r.srv.Close()
		}
		if r.stopPolling != nil {
			r.stopPolling()
			done := make(chan struct{})
			go func() { r.polling.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				r.log.Warn("queue pollers did not stop in 5s")
			}
		}
		var wg sync.WaitGroup
		for _, p := range r.pools {
			wg.Add(1)
			go func() { defer wg.Done(); p.close(2 * time.Second) }()
		}
		wg.Wait()
		if r.emulator != nil {
			r.emulator.Stop()
		}
	})
}
