package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/creator-platform/contacts/shared/apperr"
	"github.com/creator-platform/contacts/shared/auth"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/httpapi"
)

const templatePath = "../../template.yaml"

// doc returns Document decoded as generic JSON.
func doc(t *testing.T) map[string]any {
	t.Helper()
	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(Document))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return d
}

// resolve follows a local "$ref" (a JSON pointer into the document).
func resolve(root map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	var cur any = root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref returns v, or what it refers to when it is a {"$ref": ...} object.
func deref(t *testing.T, root map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		target, err := resolve(root, ref)
		if err != nil {
			t.Fatal(err)
		}
		m, _ = target.(map[string]any)
	}
	return m
}

type operation struct {
	method, path string
	item, op     map[string]any
}

func operations(t *testing.T, d map[string]any) []operation {
	t.Helper()
	paths, ok := d["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatal("the document has no paths")
	}
	var ops []operation
	for path, rawItem := range paths {
		item, _ := rawItem.(map[string]any)
		for _, m := range methods {
			if raw, ok := item[m]; ok {
				op, _ := raw.(map[string]any)
				ops = append(ops, operation{method: strings.ToUpper(m), path: path, item: item, op: op})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].method+" "+ops[i].path < ops[j].method+" "+ops[j].path })
	return ops
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

func TestDocument(t *testing.T) {
	d := doc(t)
	if v, _ := d["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi version %q, want 3.x", v)
	}
	if info, _ := d["info"].(map[string]any); info["title"] != "Contacts API" || info["version"] == "" || info["description"] == "" {
		t.Errorf("info %v", info)
	}
	if sec, _ := d["security"].([]any); len(sec) == 0 {
		t.Error("no global security requirement")
	}
	seen := map[string]string{}
	for _, o := range operations(t, d) {
		route := o.method + " " + o.path
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", route)
		} else if other, dup := seen[id]; dup {
			t.Errorf("%s: operationId %q already used by %s", route, id, other)
		}
		seen[id] = route

		responses, _ := o.op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s: no responses", route)
		}
		var success, problem4xx bool
		for status, raw := range responses {
			r := deref(t, d, raw)
			if r["description"] == nil {
				t.Errorf("%s %s: response without description", route, status)
			}
			content, _ := r["content"].(map[string]any)
			if strings.HasPrefix(status, "2") {
				success = true
			}
			if strings.HasPrefix(status, "4") || strings.HasPrefix(status, "5") {
				pj, _ := content["application/problem+json"].(map[string]any)
				schema, _ := pj["schema"].(map[string]any)
				if schema["$ref"] != "#/components/schemas/Problem" {
					t.Errorf("%s %s: no application/problem+json Problem body", route, status)
				} else if strings.HasPrefix(status, "4") {
					problem4xx = true
				}
			}
		}
		if !success {
			t.Errorf("%s: no 2xx response", route)
		}
		if !problem4xx {
			t.Errorf("%s: no 4xx problem+json response", route)
		}
		if o.op["x-sns-webhook"] == true {
			// SNS posts text/plain and reads only the status: no 415/422.
			for _, s := range []string{"400", "403", "413"} {
				if _, ok := responses[s]; !ok {
					t.Errorf("%s (SNS webhook) lists no %s", route, s)
				}
			}
			if sec, ok := o.op["security"].([]any); !ok || len(sec) != 0 {
				t.Errorf("%s (SNS webhook) must be public (security: [])", route)
			}
		} else if body, ok := o.op["requestBody"]; ok {
			want := []string{"400", "413", "415", "422"}
			if o.op["x-uniform-failure"] == true {
				// Public sign-in: every bad value is the same 401, never a
				// 422 that would tell which field was wrong.
				want = []string{"400", "401", "413", "415"}
				if _, ok := responses["422"]; ok {
					t.Errorf("%s (uniform failure) must not list 422", route)
				}
				if sec, ok := o.op["security"].([]any); !ok || len(sec) != 0 {
					t.Errorf("%s (uniform failure) must be public (security: [])", route)
				}
			}
			for _, s := range want {
				if _, ok := responses[s]; !ok {
					t.Errorf("%s takes a body but lists no %s", route, s)
				}
			}
			rb := deref(t, d, body)
			content, _ := rb["content"].(map[string]any)
			if _, ok := content["application/json"]; !ok || rb["required"] != true {
				t.Errorf("%s: request body must be required application/json", route)
			}
		}

		// Path parameters: exactly the {names} of the path, each required.
		declared := map[string]bool{}
		for _, list := range []any{o.item["parameters"], o.op["parameters"]} {
			params, _ := list.([]any)
			for _, raw := range params {
				p := deref(t, d, raw)
				if p["in"] != "path" {
					continue
				}
				name, _ := p["name"].(string)
				declared[name] = true
				if p["required"] != true {
					t.Errorf("%s: path parameter %q must be required", route, name)
				}
			}
		}
		for _, m := range pathParamRE.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q is not declared", route, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %q that is not in the path", route, name)
		}
	}
}

// templateRoutes reads every HttpApi event of every AWS::Serverless::Function
// in a SAM template: "METHOD /path" -> the function's logical id. The
// template's short-form tags (!Ref, !GetAtt, ...) stay tagged nodes.
func templateRoutes(t *testing.T, file string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	routes := map[string]string{}
	resources := get(&root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		t.Fatalf("%s: no Resources", file)
	}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, resources.Content[i+1]
		if scalar(get(res, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		events := get(get(res, "Properties"), "Events")
		if events == nil {
			continue
		}
		for j := 0; j+1 < len(events.Content); j += 2 {
			ev := events.Content[j+1]
			if scalar(get(ev, "Type")) != "HttpApi" {
				continue
			}
			props := get(ev, "Properties")
			method, path := strings.ToUpper(scalar(get(props, "Method"))), scalar(get(props, "Path"))
			if method == "" || path == "" {
				t.Errorf("%s: %s event %s has no Method or Path", file, id, events.Content[j].Value)
				continue
			}
			if other, dup := routes[method+" "+path]; dup {
				t.Errorf("%s: %s %s is served by both %s and %s", file, method, path, other, id)
			}
			routes[method+" "+path] = id
		}
	}
	if len(routes) == 0 {
		t.Fatalf("%s: no HttpApi events found", file)
	}
	return routes
}

// get returns the value of key in a mapping node (nil when absent).
func get(n *yaml.Node, key string) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
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

// scalar returns a plain scalar's value; a tagged one (!Ref X) is not a
// literal and yields "".
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return ""
	}
	return n.Value
}

// diffRoutes returns the routes only in the document and only in the template.
func diffRoutes(docRoutes []string, tmpl map[string]string) (onlyDoc, onlyTemplate []string) {
	for _, r := range docRoutes {
		if _, ok := tmpl[r]; !ok {
			onlyDoc = append(onlyDoc, r)
		}
	}
	for r := range tmpl {
		if !slices.Contains(docRoutes, r) {
			onlyTemplate = append(onlyTemplate, r)
		}
	}
	sort.Strings(onlyTemplate)
	return onlyDoc, onlyTemplate
}

func TestRoutesMatchTemplate(t *testing.T) {
	got, err := Routes()
	if err != nil {
		t.Fatal(err)
	}
	if !sort.StringsAreSorted(got) {
		t.Errorf("Routes() not sorted: %v", got)
	}
	tmpl := templateRoutes(t, templatePath)
	onlyDoc, onlyTemplate := diffRoutes(got, tmpl)
	if len(onlyDoc)+len(onlyTemplate) > 0 {
		t.Errorf("openapi.json and template.yaml disagree:\n  in template.yaml, missing from openapi.json: %v\n  in openapi.json, missing from template.yaml: %v",
			onlyTemplate, onlyDoc)
	}

	// Each route's operationId is its function's name: CreateContactFunction
	// (functions/create-contact) -> createContact.
	for _, o := range operations(t, doc(t)) {
		route := o.method + " " + o.path
		id, ok := tmpl[route]
		if !ok {
			continue
		}
		base := strings.TrimSuffix(id, "Function")
		want := strings.ToLower(base[:1]) + base[1:]
		if o.op["operationId"] != want {
			t.Errorf("%s: operationId %v, want %q (from %s)", route, o.op["operationId"], want, id)
		}
	}
}

// TestRouteDiff checks that the comparison above does catch a route taken
// out of the document, or one added to it.
func TestRouteDiff(t *testing.T) {
	tmpl := templateRoutes(t, templatePath)
	var d map[string]any
	if err := json.Unmarshal(Document, &d); err != nil {
		t.Fatal(err)
	}
	item := d["paths"].(map[string]any)["/contacts/{id}"].(map[string]any)
	delete(item, "patch")
	item["put"] = map[string]any{}
	changed, _ := json.Marshal(d)
	got, err := routes(changed)
	if err != nil {
		t.Fatal(err)
	}
	onlyDoc, onlyTemplate := diffRoutes(got, tmpl)
	if !slices.Equal(onlyTemplate, []string{"PATCH /contacts/{id}"}) || !slices.Equal(onlyDoc, []string{"PUT /contacts/{id}"}) {
		t.Errorf("diff of a document without PATCH and with PUT /contacts/{id}: only in doc %v, only in template %v", onlyDoc, onlyTemplate)
	}
}

func TestRefsResolve(t *testing.T) {
	d := doc(t)
	n := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if typ, ok := v["type"].(string); ok && !strings.HasPrefix(at, "#/components/securitySchemes/") &&
				!slices.Contains([]string{"object", "array", "string", "integer", "number", "boolean"}, typ) {
				t.Errorf("%s: type %q is not a schema type", at, typ)
			}
			if ref, ok := v["$ref"]; ok {
				n++
				s, _ := ref.(string)
				if _, err := resolve(d, s); err != nil {
					t.Errorf("%s: %v", at, err)
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", at, i), child)
			}
		}
	}
	walk("#", d)
	if n == 0 {
		t.Error("no $ref found: the walk is broken")
	}
	// Every component is used somewhere.
	comps := d["components"].(map[string]any)
	for kind, raw := range comps {
		if kind == "securitySchemes" {
			continue
		}
		for name := range raw.(map[string]any) {
			if !bytes.Contains(Document, []byte(`"#/components/`+kind+`/`+name+`"`)) {
				t.Errorf("components/%s/%s is never used", kind, name)
			}
		}
	}
}

// jsonFields returns the JSON names of t's fields and those always present
// (neither omitempty nor omitzero), following embedded structs.
func jsonFields(t reflect.Type) (all, always []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			a, al := jsonFields(f.Type)
			all, always = append(all, a...), append(always, al...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !slices.ContainsFunc(strings.Split(opts, ","), func(o string) bool { return o == "omitempty" || o == "omitzero" }) {
			always = append(always, name)
		}
	}
	sort.Strings(all)
	sort.Strings(always)
	return all, always
}

// schemaFields returns a schema's property names and required names,
// merging allOf parts.
func schemaFields(t *testing.T, d map[string]any, s map[string]any) (props, required []string) {
	parts, _ := s["allOf"].([]any)
	for _, part := range parts {
		p, r := schemaFields(t, d, deref(t, d, part))
		props, required = append(props, p...), append(required, r...)
	}
	properties, _ := s["properties"].(map[string]any)
	for name := range properties {
		props = append(props, name)
	}
	req, _ := s["required"].([]any)
	for _, r := range req {
		name, _ := r.(string)
		required = append(required, name)
	}
	sort.Strings(props)
	sort.Strings(required)
	return props, required
}

// TestSchemasMatchGoTypes keeps the schemas in step with the Go types the
// handlers decode and encode.
func TestSchemasMatchGoTypes(t *testing.T) {
	d := doc(t)
	schemas := d["components"].(map[string]any)["schemas"].(map[string]any)
	for _, c := range []struct {
		schema string
		typ    any
		input  bool // decoded strictly: no unknown fields
	}{
		{"NewContact", contacts.NewContact{}, true},
		{"ContactPatch", contacts.ContactPatch{}, true},
		{"Address", contacts.Address{}, true},
		{"Contact", contacts.Contact{}, false},
		{"Subscription", contacts.Subscription{}, false},
		{"Profile", contacts.Profile{}, false},
		{"Note", contacts.Note{}, false},
		{"LifecycleEntry", contacts.LifecycleEntry{}, false},
		{"TagCount", contacts.TagCount{}, false},
		{"ContactPage", contacts.Page[contacts.Contact]{}, false},
		{"NotePage", contacts.Page[contacts.Note]{}, false},
		{"LifecyclePage", contacts.Page[contacts.LifecycleEntry]{}, false},
		{"NewPurchase", contacts.NewPurchase{}, true},
		{"NewGrant", contacts.NewGrant{}, true},
		{"NewRefund", contacts.NewRefund{}, true},
		{"NewActivity", contacts.NewActivity{}, true},
		{"Purchase", contacts.Purchase{}, false},
		{"Refund", contacts.Refund{}, false},
		{"Product", contacts.Product{}, false},
		{"Actor", contacts.Actor{}, false},
		{"Problem", httpapi.Problem{}, false},
		{"FieldError", apperr.FieldError{}, false},
	} {
		s, ok := schemas[c.schema].(map[string]any)
		if !ok {
			t.Errorf("no schema %s", c.schema)
			continue
		}
		props, required := schemaFields(t, d, s)
		all, always := jsonFields(reflect.TypeOf(c.typ))
		if !slices.Equal(props, all) {
			t.Errorf("schema %s has properties %v, Go type %T has JSON fields %v", c.schema, props, c.typ, all)
		}
		if c.input {
			if s["additionalProperties"] != false {
				t.Errorf("schema %s: unknown fields are refused, so additionalProperties must be false", c.schema)
			}
		} else if !slices.Equal(required, always) {
			t.Errorf("schema %s requires %v; %T always has %v", c.schema, required, c.typ, always)
		}
	}
}

// TestRolesMatchPermissionMatrix checks each operation's roles against
// package auth's permission matrix.
func TestRolesMatchPermissionMatrix(t *testing.T) {
	actions := map[string]auth.Action{ // what each operation authorizes (shared/contacts/service.go)
		"createContact": auth.CreateContacts, "listContacts": auth.ReadContacts, "getContact": auth.ReadContacts,
		"updateContact": auth.EditContacts, "deleteContact": auth.DeleteContacts,
		"addNote": auth.AddNotes, "listNotes": auth.ReadNotes, "deleteNote": auth.DeleteNotes,
		"addTag": auth.ManageTags, "removeTag": auth.ManageTags, "listTags": auth.ReadTags,
		"hideContact": auth.HideContacts, "unhideContact": auth.HideContacts,
		"recordPurchase": auth.RecordPurchases, "refundPurchase": auth.RefundPurchases,
		"grantOffer": auth.GrantOffers, "endPurchase": auth.GrantOffers,
		"muteContact": auth.MuteCustomers, "unmuteContact": auth.MuteCustomers,
		"recordActivity": auth.RecordActivity, "listLifecycle": auth.ReadContacts,
		"sendPasswordReset": auth.SendPasswordReset, "changePassword": auth.ChangePasswords,
	}
	for _, o := range operations(t, doc(t)) {
		id, _ := o.op["operationId"].(string)
		if sec, ok := o.op["security"].([]any); ok && len(sec) == 0 {
			continue // public: no token, no role
		}
		action, ok := actions[id]
		if !ok {
			t.Errorf("%s: no action known for this operation; add it to the table", id)
			continue
		}
		var want []string
		for _, r := range auth.Roles {
			if auth.Can(r, action) {
				want = append(want, string(r))
			}
		}
		var got []string
		roles, _ := o.op["x-roles"].([]any)
		for _, r := range roles {
			got = append(got, r.(string))
		}
		if !slices.Equal(got, want) || o.op["x-action"] != string(action) {
			t.Errorf("%s: x-action %v x-roles %v, want %s %v", id, o.op["x-action"], got, action, want)
		}
		desc, _ := o.op["description"].(string)
		if !strings.Contains(desc, "Roles allowed (`"+string(action)+"`): "+strings.Join(want, ", ")+".") {
			t.Errorf("%s: description does not list the roles %v", id, want)
		}
	}
}
