package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is what the runner needs from a SAM template: the functions with
// their routes, and the resources it has to create in the emulator.
type Template struct {
	Functions []Function
	Tables    []Table
	Queues    []Queue
	Topics    []Topic
	// EmailIdentities are the SES identities (domains or addresses) the
	// template verifies.
	EmailIdentities []string
	Subscriptions   []Subscription
	QueuePolicies   []QueuePolicy
}

// Function is one AWS::Serverless::Function with Globals.Function merged in.
type Function struct {
	Name        string // logical id
	Handler     string
	Runtime     string
	Timeout     int // seconds
	MemorySize  int // MB
	Environment map[string]string
	Routes      []Route
	Queues      []QueueEvent
}

// Route is one HttpApi event of a function.
type Route struct {
	Function string
	Method   string // upper case, or ANY
	Path     string // e.g. /contacts/{id}
	Public   bool   // Auth: {Authorizer: NONE}
}

// Key is the API Gateway route key, "METHOD /path".
func (r Route) Key() string { return r.Method + " " + r.Path }

// QueueEvent is an SQS event source of a function.
type QueueEvent struct {
	Queue                   string // queue name
	BatchSize               int
	BatchingWindow          int // MaximumBatchingWindowInSeconds
	ReportBatchItemFailures bool
}

// Table is one AWS::DynamoDB::Table: Properties keep the template's shape.
type Table struct {
	LogicalID  string
	Name       string
	Properties map[string]any
}

// Queue is one AWS::SQS::Queue.
type Queue struct {
	LogicalID  string
	Name       string
	Properties map[string]any
}

// Topic is one AWS::SNS::Topic.
type Topic struct {
	LogicalID string
	Name      string
	ARN       string // local ARN, what !Ref gives
}

// Subscription is one AWS::SNS::Subscription, its references resolved.
type Subscription struct {
	LogicalID  string
	TopicARN   string
	Protocol   string
	Endpoint   string // for sqs: the queue ARN
	Attributes map[string]string
}

// QueuePolicy is one AWS::SQS::QueuePolicy: the policy document (JSON) and
// the names of the queues it applies to.
type QueuePolicy struct {
	LogicalID string
	Queues    []string
	Policy    string
}

// DefaultTableName is the local table name when a table sets no TableName.
const DefaultTableName = "contacts-local"

// DefaultEndpoint is the emulator endpoint queue URLs resolve to by default.
const DefaultEndpoint = "http://127.0.0.1:4566"

// LoadTemplate reads and resolves a SAM template file; endpoint is the
// emulator's URL ("" for DefaultEndpoint), used in resolved queue URLs.
func LoadTemplate(path, endpoint string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return ParseTemplate(b, endpoint)
}

// ParseTemplate resolves a SAM template's short-form intrinsics (!Ref,
// !GetAtt, !Sub) to local values and extracts functions, tables and queues.
func ParseTemplate(b []byte, endpoint string) (*Template, error) {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("parse template: empty document")
	}
	doc := root.Content[0]
	r := &resolver{params: map[string]any{}, resources: map[string]resource{}, conditions: map[string]*yaml.Node{},
		endpoint: strings.TrimSuffix(endpoint, "/")}

	// Parameters and resource types first: the resolver needs both.
	if p := mapGet(doc, "Parameters"); p != nil {
		for i := 0; i+1 < len(p.Content); i += 2 {
			name := p.Content[i].Value
			var def any
			if d := mapGet(p.Content[i+1], "Default"); d != nil {
				def = scalarValue(d)
			}
			r.params[name] = def
		}
	}
	if c := mapGet(doc, "Conditions"); c != nil {
		for i := 0; i+1 < len(c.Content); i += 2 {
			r.conditions[c.Content[i].Value] = c.Content[i+1]
		}
	}
	res := mapGet(doc, "Resources")
	if res == nil {
		return nil, fmt.Errorf("parse template: no Resources")
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id := res.Content[i].Value
		typ := ""
		if t := mapGet(res.Content[i+1], "Type"); t != nil {
			typ = t.Value
		}
		r.resources[id] = resource{typ: typ, node: res.Content[i+1]}
	}
	// Local names of tables and queues (they may be referenced before they appear).
	for id, rs := range r.resources {
		switch rs.typ {
		case "AWS::DynamoDB::Table":
			name := DefaultTableName
			if n := mapGet(mapGet(rs.node, "Properties"), "TableName"); n != nil {
				if s, ok := r.resolve(n).(string); ok && s != "" {
					name = s
				}
			}
			rs.name = name
		case "AWS::SQS::Queue":
			name := id
			if n := mapGet(mapGet(rs.node, "Properties"), "QueueName"); n != nil {
				if s, ok := r.resolve(n).(string); ok && s != "" {
					name = s
				}
			}
			rs.name = name
		case "AWS::SNS::Topic":
			name := id
			if n := mapGet(mapGet(rs.node, "Properties"), "TopicName"); n != nil {
				if s, ok := r.resolve(n).(string); ok && s != "" {
					name = s
				}
			}
			rs.name = name
		default:
			rs.name = id
		}
		r.resources[id] = rs
	}

	globals := map[string]any{}
	if g := mapGet(mapGet(doc, "Globals"), "Function"); g != nil {
		if m, ok := r.resolve(g).(map[string]any); ok {
			globals = m
		}
	}

	t := &Template{}
	ids := make([]string, 0, len(r.resources))
	for id := range r.resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rs := r.resources[id]
		props, _ := r.resolve(mapGet(rs.node, "Properties")).(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		switch rs.typ {
		case "AWS::Serverless::Function":
			fn, err := buildFunction(id, mergeGlobals(globals, props))
			if err != nil {
				return nil, err
			}
			t.Functions = append(t.Functions, fn)
		case "AWS::DynamoDB::Table":
			t.Tables = append(t.Tables, Table{LogicalID: id, Name: rs.name, Properties: props})
		case "AWS::SQS::Queue":
			t.Queues = append(t.Queues, Queue{LogicalID: id, Name: rs.name, Properties: props})
		case "AWS::SNS::Topic":
			t.Topics = append(t.Topics, Topic{LogicalID: id, Name: rs.name, ARN: str(r.ref(id))})
		case "AWS::SES::EmailIdentity":
			if ident := str(props["EmailIdentity"]); ident != "" {
				t.EmailIdentities = append(t.EmailIdentities, ident)
			}
		case "AWS::SNS::Subscription":
			sub := Subscription{LogicalID: id, TopicARN: str(props["TopicArn"]), Protocol: str(props["Protocol"]),
				Endpoint: str(props["Endpoint"]), Attributes: map[string]string{}}
			for _, k := range []string{"RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy"} {
				switch v := props[k].(type) {
				case nil:
				case map[string]any, []any:
					b, _ := json.Marshal(v)
					sub.Attributes[k] = string(b)
				default:
					sub.Attributes[k] = str(v)
				}
			}
			t.Subscriptions = append(t.Subscriptions, sub)
		case "AWS::SQS::QueuePolicy":
			qp := QueuePolicy{LogicalID: id}
			qs, _ := props["Queues"].([]any)
			for _, q := range qs {
				qp.Queues = append(qp.Queues, queueNameFromURL(str(q)))
			}
			b, _ := json.Marshal(props["PolicyDocument"])
			qp.Policy = string(b)
			t.QueuePolicies = append(t.QueuePolicies, qp)
		}
	}
	return t, nil
}

func mergeGlobals(globals, props map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range globals {
		out[k] = v
	}
	for k, v := range props {
		if k == "Environment" {
			// Variables merge key by key, the function's own win.
			vars := map[string]any{}
			if g, ok := globals["Environment"].(map[string]any); ok {
				if gv, ok := g["Variables"].(map[string]any); ok {
					for k, v := range gv {
						vars[k] = v
					}
				}
			}
			if f, ok := v.(map[string]any); ok {
				if fv, ok := f["Variables"].(map[string]any); ok {
					for k, v := range fv {
						vars[k] = v
					}
				}
			}
			out[k] = map[string]any{"Variables": vars}
			continue
		}
		out[k] = v
	}
	return out
}

func buildFunction(id string, p map[string]any) (Function, error) {
	fn := Function{
		Name:        id,
		Handler:     str(p["Handler"]),
		Runtime:     str(p["Runtime"]),
		Timeout:     intOr(p["Timeout"], 3),
		MemorySize:  intOr(p["MemorySize"], 128),
		Environment: map[string]string{},
	}
	if fn.Handler == "" {
		fn.Handler = "bootstrap"
	}
	if env, ok := p["Environment"].(map[string]any); ok {
		if vars, ok := env["Variables"].(map[string]any); ok {
			for k, v := range vars {
				fn.Environment[k] = str(v)
			}
		}
	}
	evs, _ := p["Events"].(map[string]any)
	names := make([]string, 0, len(evs))
	for n := range evs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ev, _ := evs[n].(map[string]any)
		props, _ := ev["Properties"].(map[string]any)
		switch str(ev["Type"]) {
		case "HttpApi":
			rt := Route{Function: id, Method: strings.ToUpper(str(props["Method"])), Path: str(props["Path"])}
			if rt.Method == "" || rt.Method == "*" {
				rt.Method = "ANY"
			}
			if rt.Path == "" {
				return fn, fmt.Errorf("function %s event %s: HttpApi without Path", id, n)
			}
			if auth, ok := props["Auth"].(map[string]any); ok && str(auth["Authorizer"]) == "NONE" {
				rt.Public = true
			}
			fn.Routes = append(fn.Routes, rt)
		case "SQS":
			q := QueueEvent{Queue: queueRef(props["Queue"]), BatchSize: intOr(props["BatchSize"], 10),
				BatchingWindow: intOr(props["MaximumBatchingWindowInSeconds"], 0)}
			if frt, ok := props["FunctionResponseTypes"].([]any); ok {
				for _, x := range frt {
					if str(x) == "ReportBatchItemFailures" {
						q.ReportBatchItemFailures = true
					}
				}
			}
			fn.Queues = append(fn.Queues, q)
		}
	}
	return fn, nil
}

// queueRef recovers the queue's name from a resolved !GetAtt X.Arn.
func queueRef(v any) string {
	s := str(v)
	if i := strings.LastIndex(s, ":"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// queueNameFromURL recovers the queue's name from a resolved !Ref (its URL).
func queueNameFromURL(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

type resource struct {
	typ  string
	name string // local physical name
	node *yaml.Node
}

type resolver struct {
	endpoint   string
	params     map[string]any
	resources  map[string]resource
	conditions map[string]*yaml.Node
	evaluating map[string]bool // conditions being evaluated (cycle guard)
}

const (
	localRegion  = "us-east-1"
	localAccount = "123456789012"
)

// ref resolves !Ref: a parameter to its Default, a pseudo parameter to its
// local value, a resource to its local physical id.
func (r *resolver) ref(name string) any {
	switch name {
	case "AWS::Region":
		return localRegion
	case "AWS::AccountId":
		return localAccount
	case "AWS::StackName":
		return "contacts-local"
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	case "AWS::NoValue":
		return nil
	}
	if v, ok := r.params[name]; ok {
		return v
	}
	if rs, ok := r.resources[name]; ok {
		switch rs.typ {
		case "AWS::SQS::Queue":
			return r.endpoint + "/" + localAccount + "/" + rs.name
		case "AWS::SNS::Topic":
			return "arn:aws:sns:" + localRegion + ":" + localAccount + ":" + rs.name
		default:
			return rs.name
		}
	}
	return name
}

func (r *resolver) getAtt(name, attr string) any {
	rs, ok := r.resources[name]
	if !ok {
		return name + "." + attr
	}
	switch {
	case rs.typ == "AWS::SQS::Queue" && attr == "Arn":
		return "arn:aws:sqs:" + localRegion + ":" + localAccount + ":" + rs.name
	case rs.typ == "AWS::SQS::Queue" && attr == "QueueName":
		return rs.name
	case rs.typ == "AWS::SQS::Queue" && attr == "QueueUrl":
		return r.endpoint + "/" + localAccount + "/" + rs.name
	case rs.typ == "AWS::SNS::Topic" && attr == "TopicArn":
		return r.ref(name)
	case rs.typ == "AWS::SNS::Topic" && attr == "TopicName":
		return rs.name
	case rs.typ == "AWS::DynamoDB::Table" && attr == "Arn":
		return "arn:aws:dynamodb:" + localRegion + ":" + localAccount + ":table/" + rs.name
	case attr == "Arn":
		return "arn:aws:local:" + localRegion + ":" + localAccount + ":" + rs.name
	}
	return rs.name + "." + attr
}

// resolve turns a YAML node into plain Go values, evaluating intrinsics.
func (r *resolver) resolve(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	switch n.Tag {
	case "!Ref":
		return r.ref(n.Value)
	case "!GetAtt":
		var parts []string
		if n.Kind == yaml.ScalarNode {
			parts = strings.SplitN(n.Value, ".", 2)
		} else {
			for _, c := range n.Content {
				parts = append(parts, str(r.resolve(c)))
			}
		}
		if len(parts) < 2 {
			return n.Value
		}
		return r.getAtt(parts[0], parts[1])
	case "!Sub":
		if n.Kind == yaml.ScalarNode {
			return r.sub(n.Value, nil)
		}
		if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
			vars, _ := r.resolve(safeIndex(n.Content, 1)).(map[string]any)
			return r.sub(n.Content[0].Value, vars)
		}
	case "!Join":
		// [delimiter, [values...]]; a value that is a list (a
		// CommaDelimitedList parameter) is spliced in.
		if n.Kind == yaml.SequenceNode && len(n.Content) == 2 {
			var parts []string
			items, _ := r.resolve(n.Content[1]).([]any)
			for _, it := range items {
				if l, ok := it.([]any); ok {
					for _, x := range l {
						parts = append(parts, str(x))
					}
					continue
				}
				parts = append(parts, str(it))
			}
			return strings.Join(parts, n.Content[0].Value)
		}
	case "!If":
		if n.Kind == yaml.SequenceNode && len(n.Content) == 3 {
			if r.condition(n.Content[0].Value) {
				return r.resolve(n.Content[1])
			}
			return r.resolve(n.Content[2])
		}
	case "!Equals", "!Not", "!And", "!Or", "!Condition":
		return r.truth(n)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return r.resolve(n.Content[0])
		}
		return nil
	case yaml.AliasNode:
		return r.resolve(n.Alias)
	case yaml.MappingNode:
		// Long-form intrinsics.
		if len(n.Content) == 2 {
			k, v := n.Content[0].Value, n.Content[1]
			switch k {
			case "Ref":
				return r.ref(v.Value)
			case "Fn::GetAtt":
				c := *v
				c.Tag = "!GetAtt"
				return r.resolve(&c)
			case "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
				c := *v
				c.Tag = "!" + strings.TrimPrefix(k, "Fn::")
				if k == "Condition" && v.Kind != yaml.ScalarNode {
					break // a resource's Condition attribute is not an intrinsic
				}
				return r.resolve(&c)
			}
		}
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = r.resolve(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, r.resolve(c))
		}
		return out
	default:
		return scalarValue(n)
	}
}

// condition evaluates the template's condition name (false when unknown).
func (r *resolver) condition(name string) bool {
	n, ok := r.conditions[name]
	if !ok || r.evaluating[name] {
		return false
	}
	if r.evaluating == nil {
		r.evaluating = map[string]bool{}
	}
	r.evaluating[name] = true
	defer delete(r.evaluating, name)
	return r.truth(n)
}

// truth evaluates a condition function: !Equals, !Not, !And, !Or,
// !Condition (short or long form).
func (r *resolver) truth(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	tag, args := n.Tag, n
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		tag, args = "!"+strings.TrimPrefix(n.Content[0].Value, "Fn::"), n.Content[1]
	}
	switch tag {
	case "!Condition":
		return r.condition(args.Value)
	case "!Equals":
		if len(args.Content) == 2 {
			return str(r.resolve(args.Content[0])) == str(r.resolve(args.Content[1]))
		}
	case "!Not":
		if len(args.Content) == 1 {
			return !r.truth(args.Content[0])
		}
	case "!And":
		for _, c := range args.Content {
			if !r.truth(c) {
				return false
			}
		}
		return len(args.Content) > 0
	case "!Or":
		for _, c := range args.Content {
			if r.truth(c) {
				return true
			}
		}
	}
	return false
}

func (r *resolver) sub(s string, vars map[string]any) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		k := strings.IndexByte(s[i:], '}')
		if k < 0 {
			b.WriteString(s[i:])
			break
		}
		name := s[i+2 : i+k]
		i += k + 1
		if strings.HasPrefix(name, "!") { // ${!Literal}
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		if v, ok := vars[name]; ok {
			b.WriteString(str(v))
			continue
		}
		if res, attr, ok := strings.Cut(name, "."); ok {
			if _, known := r.resources[res]; known {
				b.WriteString(str(r.getAtt(res, attr)))
				continue
			}
		}
		b.WriteString(str(r.ref(name)))
	}
	return b.String()
}

func safeIndex(ns []*yaml.Node, i int) *yaml.Node {
	if i < len(ns) {
		return ns[i]
	}
	return nil
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) any {
	switch n.Tag {
	case "!!int":
		if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return v
		}
	case "!!float":
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return v
		}
	case "!!bool":
		if v, err := strconv.ParseBool(n.Value); err == nil {
			return v
		}
	case "!!null":
		return nil
	}
	return n.Value
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func intOr(v any, def int) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case int:
		return x
	case float64:
		return int(x)
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	return def
}
