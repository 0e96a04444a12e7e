package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Emulator is the local AWS emulator (moto server). The runner starts it
// unless something already answers at Addr, and stops only what it started.
//
// Persistence: moto keeps state in memory only. With Persist, the runner
// turns on moto's request recorder (MOTO_ENABLE_RECORDING, file under
// DataDir) and, on the next start, replays the recording through
// /moto-api/recorder/replay-recording before anything else talks to the
// emulator. Before replaying, read-only DynamoDB calls are dropped from the
// recording so that it grows with writes only. Replay is exact for DynamoDB
// (client-chosen keys). For SQS only the queues are replayed, not their
// messages: receipt handles change from one emulator to the next, so a
// replayed DeleteMessage would not delete and every message ever sent would
// come back. Messages in flight when the runner stops are therefore lost.
type Emulator struct {
	Addr    string // 127.0.0.1:4566
	Command string // path of moto_server; its venv's python runs the server
	// Wrapper, when set, is a Python script run instead of moto's own main
	// (local/emulator.py: moto's app with each DynamoDB request atomic).
	Wrapper string
	DataDir string // .local/moto
	Persist bool
	Log     *slog.Logger

	cmd     *exec.Cmd
	exited  chan struct{}
	logFile *os.File
	client  *http.Client
}

// RecordingFile is where moto's recorder writes, relative to DataDir.
const RecordingFile = "recording.jsonl"

func (e *Emulator) url() string { return "http://" + e.Addr }

func (e *Emulator) httpClient() *http.Client {
	if e.client == nil {
		e.client = &http.Client{Timeout: 30 * time.Second}
	}
	return e.client
}

// answers reports whether some HTTP server answers at Addr.
func (e *Emulator) answers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url()+"/moto-api/recorder/probe", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	return true
}

// Start starts moto server unless the address already answers, then waits
// (bounded) until it is ready and replays persisted state.
func (e *Emulator) Start(ctx context.Context) error {
	if e.answers(ctx) {
		e.Log.Info("emulator already running, using it", "addr", e.Addr)
		if e.Persist {
			e.Log.Warn("emulator state is not persisted by this runner: it did not start the emulator")
		}
		return nil
	}
	if _, err := os.Stat(e.Command); err != nil {
		return fmt.Errorf("emulator: %s not found (run `make venv` first): %w", e.Command, err)
	}
	if err := os.MkdirAll(e.DataDir, 0o755); err != nil {
		return fmt.Errorf("emulator data dir: %w", err)
	}
	host, port, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return fmt.Errorf("emulator address: %w", err)
	}
	rec := filepath.Join(e.DataDir, RecordingFile)
	replay := false
	if e.Persist {
		n, err := compactRecording(rec)
		if err != nil {
			return fmt.Errorf("emulator state: %w", err)
		}
		replay = n > 0
	}
	logFile, err := os.OpenFile(filepath.Join(e.DataDir, "moto.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("emulator log: %w", err)
	}
	e.logFile = logFile
	python := filepath.Join(filepath.Dir(e.Command), "python")
	if _, err := os.Stat(python); err != nil {
		return fmt.Errorf("emulator: no python beside %s: %w", e.Command, err)
	}
	cmd := exec.Command(python, "-c", motoLauncher, e.Wrapper, "-H", host, "-p", port)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+localRegion)
	if e.Persist {
		cmd.Env = append(cmd.Env, "MOTO_ENABLE_RECORDING=true", "MOTO_RECORDER_FILEPATH="+rec)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start emulator: %w", err)
	}
	e.cmd = cmd
	e.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(e.exited) }()

	ready := false
	for range 150 { // 150 x 100ms = 15s
		if e.answers(ctx) {
			ready = true
			break
		}
		select {
		case <-e.exited:
			return fmt.Errorf("emulator exited at start; see %s", logFile.Name())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !ready {
		return fmt.Errorf("emulator not ready at %s after 15s; see %s", e.Addr, logFile.Name())
	}
	e.Log.Info("emulator started", "addr", e.Addr, "pid", cmd.Process.Pid, "persist", e.Persist)
	if replay {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url()+"/moto-api/recorder/replay-recording", nil)
		resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
		if err != nil {
			return fmt.Errorf("emulator replay: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("emulator replay: status %d", resp.StatusCode)
		}
		e.Log.Info("emulator state restored", "duration", time.Since(start).Round(time.Millisecond).String())
	}
	return nil
}

// motoLauncher starts moto (through the wrapper script when one is given as
// argv[1]) with one fix: moto's recorder writes each entry with two writes
// on a file opened per request, so concurrent requests with large bodies
// interleave and corrupt lines (measured: 18 of 201 lines unreadable with
// 8 writers of 30 KB items). A lock makes each entry one whole line.
const motoLauncher = `
import runpy, sys, threading
from moto.moto_api._internal.recorder.models import Recorder
_lock = threading.Lock()
_record = Recorder._record_request
def _record_locked(self, *args, **kwargs):
    with _lock:
        return _record(self, *args, **kwargs)
Recorder._record_request = _record_locked
wrapper, args = sys.argv[1], sys.argv[2:]
if wrapper:
    sys.argv = [wrapper] + args
    runpy.run_path(wrapper, run_name="__main__")
else:
    from moto.server import main
    sys.argv = ["moto_server"] + args
    sys.exit(main())
`

// readOnlyTargets are DynamoDB calls that change nothing and need no replay.
var readOnlyTargets = map[string]bool{
	"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true,
	"DescribeTable": true, "ListTables": true, "DescribeTimeToLive": true, "DescribeContinuousBackups": true,
	"ListTagsOfResource": true, "DescribeEndpoints": true, "DescribeLimits": true,
}

// sqsKeptOps are the SQS calls replayed: queues and their settings. Message
// calls are not: a replayed DeleteMessage carries a receipt handle the new
// emulator never issued, so messages would come back after each restart.
var sqsKeptOps = map[string]bool{
	"CreateQueue": true, "DeleteQueue": true, "SetQueueAttributes": true,
	"TagQueue": true, "UntagQueue": true, "AddPermission": true, "RemovePermission": true,
}

// snsKeptOps are the SNS calls replayed: topics and subscriptions. A
// replayed Publish would deliver its message to the subscribed queues again
// (and the ingest would see old events after every restart).
var snsKeptOps = map[string]bool{
	"CreateTopic": true, "DeleteTopic": true, "SetTopicAttributes": true, "Subscribe": true,
	"Unsubscribe": true, "SetSubscriptionAttributes": true, "ConfirmSubscription": true,
	"TagResource": true, "UntagResource": true, "AddPermission": true, "RemovePermission": true,
}

// snsAction returns the Action of a recorded SNS (query protocol) request,
// "" for any other request.
func snsAction(line []byte) string {
	var entry struct {
		Headers     map[string]string `json:"headers"`
		Body        string            `json:"body"`
		BodyEncoded bool              `json:"body_encoded"`
	}
	if json.Unmarshal(line, &entry) != nil {
		return ""
	}
	isSNS := false
	for k, v := range entry.Headers {
		if strings.EqualFold(k, "Authorization") && strings.Contains(v, "/sns/aws4_request") {
			isSNS = true
		}
	}
	if !isSNS {
		return ""
	}
	body := []byte(entry.Body)
	if entry.BodyEncoded {
		b, err := base64.StdEncoding.DecodeString(entry.Body)
		if err != nil {
			return ""
		}
		body = b
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("Action")
}

// compactRecording rewrites the recording without read-only calls and
// returns how many entries remain.
func compactRecording(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var kept bytes.Buffer
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var entry struct {
			Method  string            `json:"method"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		}
		if json.Unmarshal(line, &entry) != nil {
			continue // a torn last line from a killed emulator
		}
		if entry.Method == http.MethodGet || entry.Method == http.MethodHead || strings.Contains(entry.URL, "/moto-api/") {
			continue
		}
		target := ""
		for k, v := range entry.Headers {
			if strings.EqualFold(k, "X-Amz-Target") {
				target = v
			}
		}
		if op, ok := strings.CutPrefix(target, "DynamoDB_20120810."); ok && readOnlyTargets[op] {
			continue
		}
		if op, ok := strings.CutPrefix(target, "AmazonSQS."); ok && !sqsKeptOps[op] {
			continue
		}
		if action := snsAction(line); action != "" && !snsKeptOps[action] {
			continue
		}
		kept.Write(line)
		kept.WriteByte('\n')
		n++
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, kept.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, path)
}

// Stop stops the emulator if this runner started it (SIGTERM, then SIGKILL).
func (e *Emulator) Stop() {
	if e.cmd == nil {
		return
	}
	terminate(e.cmd)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		kill(e.cmd)
		select {
		case <-e.exited:
		case <-time.After(2 * time.Second):
			e.Log.Warn("emulator did not exit", "pid", e.cmd.Process.Pid)
		}
	}
	if e.logFile != nil {
		_ = e.logFile.Close()
	}
	e.Log.Info("emulator stopped")
}

// dynamo calls a DynamoDB JSON API operation on the emulator.
func (e *Emulator) dynamo(ctx context.Context, op string, in any, out any) error {
	return e.call(ctx, "dynamodb", "DynamoDB_20120810", op, in, out)
}

// sqs calls an SQS JSON API operation on the emulator.
func (e *Emulator) sqs(ctx context.Context, op string, in any, out any) error {
	return e.call(ctx, "sqs", "AmazonSQS", op, in, out)
}

// call sends one AWS JSON 1.0 request. moto does not check signatures; the
// Authorization header only carries the region.
func (e *Emulator) call(ctx context.Context, service, prefix, op string, in any, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url()+"/", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", prefix+"."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/"+localRegion+"/"+service+"/aws4_request, SignedHeaders=host, Signature=local")
	resp, err := e.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", service, op, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		var ae struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &ae)
		typ := ae.Type[strings.LastIndexByte(ae.Type, '#')+1:]
		return &awsError{Service: service, Op: op, Type: typ, Message: ae.Message, Status: resp.StatusCode}
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

type awsError struct {
	Service, Op, Type, Message string
	Status                     int
}

func (e *awsError) Error() string {
	return fmt.Sprintf("%s %s: %s: %s (status %d)", e.Service, e.Op, e.Type, e.Message, e.Status)
}

// CreateTables creates each table missing from the emulator from its
// template definition, then applies its TimeToLiveSpecification.
func (e *Emulator) CreateTables(ctx context.Context, tables []Table) error {
	for _, t := range tables {
		var desc map[string]any
		err := e.dynamo(ctx, "DescribeTable", map[string]any{"TableName": t.Name}, &desc)
		var ae *awsError
		switch {
		case err == nil:
			e.Log.Info("table exists", "table", t.Name)
		case errors.As(err, &ae) && ae.Type == "ResourceNotFoundException":
			if err := e.dynamo(ctx, "CreateTable", CreateTableInput(t), nil); err != nil {
				return err
			}
			e.Log.Info("table created", "table", t.Name)
		default:
			return err
		}
		if ttl, ok := t.Properties["TimeToLiveSpecification"].(map[string]any); ok {
			if en, _ := ttl["Enabled"].(bool); en {
				var cur struct {
					TimeToLiveDescription struct{ TimeToLiveStatus string }
				}
				if err := e.dynamo(ctx, "DescribeTimeToLive", map[string]any{"TableName": t.Name}, &cur); err != nil {
					return err
				}
				if cur.TimeToLiveDescription.TimeToLiveStatus != "ENABLED" {
					in := map[string]any{"TableName": t.Name, "TimeToLiveSpecification": map[string]any{
						"AttributeName": ttl["AttributeName"], "Enabled": true}}
					if err := e.dynamo(ctx, "UpdateTimeToLive", in, nil); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// CreateTableInput maps a CloudFormation table definition to the
// DynamoDB CreateTable request.
func CreateTableInput(t Table) map[string]any {
	in := map[string]any{"TableName": t.Name}
	for _, k := range []string{"AttributeDefinitions", "KeySchema", "LocalSecondaryIndexes", "BillingMode", "ProvisionedThroughput", "TableClass"} {
		if v, ok := t.Properties[k]; ok {
			in[k] = v
		}
	}
	if gsis, ok := t.Properties["GlobalSecondaryIndexes"].([]any); ok {
		out := make([]any, 0, len(gsis))
		for _, g := range gsis {
			gm, _ := g.(map[string]any)
			x := map[string]any{}
			for _, k := range []string{"IndexName", "KeySchema", "Projection", "ProvisionedThroughput"} {
				if v, ok := gm[k]; ok {
					x[k] = v
				}
			}
			out = append(out, x)
		}
		in["GlobalSecondaryIndexes"] = out
	}
	if s, ok := t.Properties["StreamSpecification"].(map[string]any); ok {
		in["StreamSpecification"] = map[string]any{"StreamEnabled": true, "StreamViewType": s["StreamViewType"]}
	}
	if s, ok := t.Properties["SSESpecification"].(map[string]any); ok {
		if en, _ := s["SSEEnabled"].(bool); en {
			in["SSESpecification"] = map[string]any{"Enabled": true}
		}
	}
	if in["BillingMode"] == nil && in["ProvisionedThroughput"] == nil {
		in["BillingMode"] = "PAY_PER_REQUEST"
	}
	return in
}
