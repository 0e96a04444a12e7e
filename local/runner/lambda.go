package runner

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors an invocation can end with. The gateway maps them to API Gateway's
// answers: ErrTimeout to 504, ErrFunction to 502.
var (
	ErrTimeout  = errors.New("function timed out")
	ErrFunction = errors.New("function failed")
)

// maxPayload is Lambda's synchronous payload limit (6 MB), for requests and responses.
const maxPayload = 6 << 20

// ColdStartFunc receives, for each new instance, the time from its process
// start to its first /next call.
type ColdStartFunc func(function string, d time.Duration)

// pool runs the instances of one function: started lazily, kept warm, at most
// max at once, each handling one invocation at a time.
type pool struct {
	fn        Function
	bootstrap string // absolute path of the built bootstrap
	env       []string
	log       *slog.Logger
	onCold    ColdStartFunc

	slots chan struct{} // one token per allowed concurrent instance
	mu    sync.Mutex
	idle  []*instance
	all   map[*instance]struct{}
	seq   int
}

func newPool(fn Function, bootstrap string, env []string, max int, log *slog.Logger, onCold ColdStartFunc) *pool {
	if max < 1 {
		max = 1
	}
	return &pool{fn: fn, bootstrap: bootstrap, env: env, log: log, onCold: onCold,
		slots: make(chan struct{}, max), all: map[*instance]struct{}{}}
}

// invoke runs one invocation on a warm or new instance.
func (p *pool) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slots }()

	inst, err := p.take()
	if err != nil {
		return nil, err
	}
	out, err := inst.invoke(ctx, payload, time.Duration(p.fn.Timeout)*time.Second)
	if err != nil && (errors.Is(err, ErrTimeout) || inst.dead()) || errors.Is(err, context.Canceled) {
		// A timed-out, crashed or abandoned instance is never reused.
		p.discard(inst)
		return out, err
	}
	p.mu.Lock()
	p.idle = append(p.idle, inst)
	p.mu.Unlock()
	return out, err
}

// take returns a live idle instance or starts a new one. The caller holds a slot.
func (p *pool) take() (*instance, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		inst := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !inst.dead() {
			p.mu.Unlock()
			return inst, nil
		}
		delete(p.all, inst)
	}
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	inst, err := startInstance(p, seq)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.all[inst] = struct{}{}
	p.mu.Unlock()
	return inst, nil
}

func (p *pool) discard(inst *instance) {
	inst.stop(2 * time.Second)
	p.mu.Lock()
	delete(p.all, inst)
	p.mu.Unlock()
}

// close stops every instance, waiting at most grace for each.
func (p *pool) close(grace time.Duration) {
	p.mu.Lock()
	insts := make([]*instance, 0, len(p.all))
	for i := range p.all {
		insts = append(insts, i)
	}
	p.all = map[*instance]struct{}{}
	p.idle = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, i := range insts {
		wg.Add(1)
		go func() { defer wg.Done(); i.stop(grace) }()
	}
	wg.Wait()
}

// invocation is one request handed to an instance's /next.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	result   chan result // buffered 1
}

type result struct {
	body []byte
	err  error
}

// instance is one bootstrap process and the Runtime API server it talks to.
type instance struct {
	pool    *pool
	name    string
	cmd     *exec.Cmd
	srv     *http.Server
	started time.Time

	next    chan *invocation // handed to /next; buffered 1
	exited  chan struct{}    // closed when the process has exited
	exitMu  sync.Mutex
	exitErr error

	mu       sync.Mutex
	current  *invocation
	initErr  []byte
	sawNext  bool
	stopOnce sync.Once
}

func startInstance(p *pool, seq int) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime api listen: %w", err)
	}
	inst := &instance{
		pool:   p,
		name:   fmt.Sprintf("%s#%d", p.fn.Name, seq),
		next:   make(chan *invocation, 1),
		exited: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", inst.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", inst.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", inst.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", inst.handleInitError)
	inst.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = inst.srv.Serve(ln) }()

	cmd := exec.Command(p.bootstrap)
	cmd.Dir = dirOf(p.bootstrap)
	cmd.Env = append(append([]string{}, p.env...), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+inst.name)
	setProcessGroup(cmd)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	// The child may call /next before Start returns: its handler waits on mu.
	inst.mu.Lock()
	inst.started = time.Now()
	err = cmd.Start()
	if err == nil {
		inst.cmd = cmd
	}
	inst.mu.Unlock()
	if err != nil {
		_ = inst.srv.Close()
		return nil, fmt.Errorf("start %s: %w", p.fn.Name, err)
	}
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); forward(p.fn.Name, stdout) }()
	go func() { defer copies.Done(); forward(p.fn.Name, stderr) }()
	go func() {
		copies.Wait() // Wait must not run before the pipes are drained.
		err := cmd.Wait()
		inst.exitMu.Lock()
		inst.exitErr = err
		inst.exitMu.Unlock()
		close(inst.exited)
		p.log.Debug("function instance exited", "instance", inst.name, "err", err)
	}()
	p.log.Debug("function instance started", "instance", inst.name, "pid", cmd.Process.Pid)
	return inst, nil
}

// forward copies a child's output to the runner's stderr, one prefixed line at a time.
func forward(name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	prefix := "[" + name + "] "
	for sc.Scan() {
		_, _ = os.Stderr.Write([]byte(prefix + sc.Text() + "\n"))
	}
	_, _ = io.Copy(io.Discard, r)
}

func (i *instance) dead() bool {
	select {
	case <-i.exited:
		return true
	default:
		return false
	}
}

func (i *instance) exitError() error {
	i.exitMu.Lock()
	defer i.exitMu.Unlock()
	return i.exitErr
}

// invoke hands one payload to the instance and waits for its answer, the
// timeout, the process's exit or the caller giving up.
func (i *instance) invoke(ctx context.Context, payload []byte, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	inv := &invocation{id: newRequestID(), payload: payload, deadline: time.Now().Add(timeout), result: make(chan result, 1)}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case i.next <- inv:
	case <-i.exited:
		return nil, fmt.Errorf("%w: %s exited before the invocation: %v", ErrFunction, i.name, i.exitError())
	}
	select {
	case r := <-inv.result:
		return r.body, r.err
	case <-timer.C:
		i.pool.log.Warn("function timed out", "instance", i.name, "timeout", timeout)
		return nil, fmt.Errorf("%w after %s", ErrTimeout, timeout)
	case <-i.exited:
		// The process may have answered just before it exited.
		select {
		case r := <-inv.result:
			return r.body, r.err
		default:
		}
		i.pool.log.Warn("function instance crashed", "instance", i.name, "err", i.exitError())
		return nil, fmt.Errorf("%w: %s exited: %v", ErrFunction, i.name, i.exitError())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (i *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	first := !i.sawNext
	i.sawNext = true
	i.current = nil
	started := i.started
	i.mu.Unlock()
	if first {
		d := time.Since(started)
		i.pool.log.Debug("function instance ready", "instance", i.name, "cold_start", d)
		if i.pool.onCold != nil {
			i.pool.onCold(i.pool.fn.Name, d)
		}
	}
	var inv *invocation
	select {
	case inv = <-i.next:
	case <-r.Context().Done():
		return
	}
	i.mu.Lock()
	i.current = inv
	i.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+localRegion+":"+localAccount+":function:"+i.pool.fn.Name)
	h.Set("Lambda-Runtime-Trace-Id", traceRoot(time.Now())+";Parent="+hexID(8)+";Sampled=0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

func (i *instance) take(id string) *invocation {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.current == nil || i.current.id != id {
		return nil
	}
	inv := i.current
	i.current = nil
	return inv
}

func (i *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := i.take(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "unknown request id")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	switch {
	case err != nil:
		inv.result <- result{err: fmt.Errorf("%w: reading response: %v", ErrFunction, err)}
	case len(body) > maxPayload:
		inv.result <- result{err: fmt.Errorf("%w: response over %d bytes", ErrFunction, maxPayload)}
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response too large")
		return
	default:
		inv.result <- result{body: body}
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (i *instance) handleError(w http.ResponseWriter, r *http.Request) {
	inv := i.take(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "unknown request id")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	// The error text may carry user data: it goes to debug only.
	i.pool.log.Warn("function returned an error", "instance", i.name,
		"error_type", r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	i.pool.log.Debug("function error", "instance", i.name, "error", truncate(string(body), 500))
	inv.result <- result{body: body, err: fmt.Errorf("%w: %s", ErrFunction, truncate(string(body), 200))}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func (i *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	i.pool.log.Error("function init failed", "instance", i.name, "error", truncate(string(body), 500))
	i.mu.Lock()
	i.initErr = body
	i.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
	// Lambda stops an instance whose init failed.
	go i.stop(time.Second)
}

func writeRuntimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"errorType":%q,"errorMessage":%q}`, typ, msg)
}

// stop ends the process (SIGTERM, then SIGKILL after grace) and its server.
func (i *instance) stop(grace time.Duration) {
	i.stopOnce.Do(func() {
		i.mu.Lock()
		cmd := i.cmd
		i.mu.Unlock()
		if cmd != nil && !i.dead() {
			terminate(cmd)
			select {
			case <-i.exited:
			case <-time.After(grace):
				kill(cmd)
				select {
				case <-i.exited:
				case <-time.After(grace):
					i.pool.log.Warn("function instance did not exit", "instance", i.name)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = i.srv.Shutdown(ctx)
		_ = i.srv.Close()
	})
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

func hexID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// traceRoot is an X-Ray trace id: Root=1-<epoch seconds, hex>-<96 random bits>.
func traceRoot(now time.Time) string {
	return "Root=1-" + strconv.FormatInt(now.Unix(), 16) + "-" + hexID(12)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, os.PathSeparator); i >= 0 {
		return p[:i]
	}
	return "."
}

// functionEnv is the process environment Lambda gives a function.
func functionEnv(fn Function, endpoint string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TZ=UTC",
		"LANG=en_US.UTF-8",
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_EXECUTION_ENV=AWS_Lambda_" + strings.ReplaceAll(fn.Runtime, ".", "_"),
		"_HANDLER=" + fn.Handler,
		"AWS_REGION=" + localRegion,
		"AWS_DEFAULT_REGION=" + localRegion,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_ENDPOINT_URL=" + endpoint,
	}
	for k, v := range fn.Environment {
		env = append(env, k+"="+v)
	}
	return env
}
