package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileBytes is the largest config file accepted.
const MaxFileBytes = 4 << 20

// Load reads, decodes, defaults and validates the config file at path. The
// error, if any, is an Errors value listing every problem found, each with
// the file, line and field.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes, defaults and validates config data. name appears in error
// messages and locates relative file paths. It may be "" for in-memory
// configs, whose paths are then resolved against the working directory.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > MaxFileBytes {
		return nil, Errors{{File: name, Message: fmt.Sprintf("config file is %d bytes; the maximum is %d", len(data), MaxFileBytes)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{yamlSyntaxError(name, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, Errors{{File: name, Message: "config file is empty: it needs at least listeners, routes and upstreams"}}
	}

	cfg := &Config{path: name, root: &root}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return nil, decodeErrors(name, err)
	}

	dir := "."
	if name != "" {
		dir = filepath.Dir(name)
	}
	cfg.setDefaults()
	cfg.resolvePaths(dir)
	if err := cfg.validate(); err != nil {
		return nil, cfg.Locate(err)
	}
	return cfg, nil
}

// Locate fills in the file and line of every FieldError in err whose path
// names a field of this config, and returns err. Errors from building the
// pipeline pass through it so they point at the config as well.
func (c *Config) Locate(err error) error {
	var es Errors
	switch e := err.(type) {
	case Errors:
		es = e
	case *FieldError:
		es = Errors{e}
	default:
		return err
	}
	for _, fe := range es {
		if fe.File == "" {
			fe.File = c.path
		}
		if fe.Line == 0 && c.root != nil {
			fe.Line = lineOf(c.root, fe.Path)
		}
	}
	return es
}

func yamlSyntaxError(name string, err error) *FieldError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	fe := &FieldError{File: name, Message: "invalid YAML: " + msg}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Message = "invalid YAML: " + strings.TrimSpace(msg[len(m[0]):])
	}
	return fe
}

var (
	lineRE         = regexp.MustCompile(`^line (\d+):?`)
	unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type config\.(\w+)$`)
	cannotDecodeRE = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
)

// decodeErrors turns the decoder's messages into FieldErrors with lines and
// wording that names the change to make.
func decodeErrors(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Errors{yamlSyntaxError(name, err)}
	}
	var es Errors
	for _, msg := range te.Errors {
		fe := &FieldError{File: name}
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			fe.Line, _ = strconv.Atoi(m[1])
			msg = strings.TrimSpace(msg[len(m[0]):])
		}
		switch {
		case unknownFieldRE.MatchString(msg):
			m := unknownFieldRE.FindStringSubmatch(msg)
			fe.Message = fmt.Sprintf("unknown field %q in %s: check the spelling against docs/config.md", m[1], typeLabel(m[2]))
		case cannotDecodeRE.MatchString(msg):
			m := cannotDecodeRE.FindStringSubmatch(msg)
			if m[2] != "" {
				fe.Message = fmt.Sprintf("invalid value %q: expected %s, got a %s", m[2], goTypeLabel(m[3]), yamlTagLabel(m[1]))
			} else {
				fe.Message = fmt.Sprintf("expected %s, got a %s", goTypeLabel(m[3]), yamlTagLabel(m[1]))
			}
		default:
			fe.Message = msg
		}
		es = append(es, fe)
	}
	return es
}

func typeLabel(goType string) string {
	var b strings.Builder
	for i, r := range goType {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

func goTypeLabel(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case t == "int" || t == "int64" || t == "*int":
		return "a whole number"
	case t == "bool" || t == "*bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "config."):
		return typeLabel(strings.TrimPrefix(t, "config.")) + " settings (a mapping)"
	}
	return t
}

func yamlTagLabel(tag string) string {
	switch tag {
	case "seq":
		return "list"
	case "map":
		return "mapping"
	case "str":
		return "string"
	case "int":
		return "number"
	}
	return tag
}

// lineOf returns the line of the node at path, or of its deepest existing
// ancestor, or 0.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, step := range splitPath(path) {
		next, keyLine := child(n, step)
		if next == nil {
			if keyLine > 0 {
				return keyLine
			}
			return line
		}
		n = next
		line = keyLine
		if line == 0 {
			line = n.Line
		}
	}
	return line
}

// splitPath splits "routes[2].auth.methods[0]" into
// ["routes", "2", "auth", "methods", "0"].
func splitPath(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				out = append(out, part)
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part[i:], ']')
			if j < 0 {
				out = append(out, part[i+1:])
				break
			}
			out = append(out, part[i+1:i+j])
			part = part[i+j+1:]
		}
	}
	return out
}

// child returns the child of n named by step and the line of its key.
func child(n *yaml.Node, step string) (*yaml.Node, int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == step {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		if idx, err := strconv.Atoi(step); err == nil && idx >= 0 && idx < len(n.Content) {
			return n.Content[idx], n.Content[idx].Line
		}
	}
	return nil, 0
}
