package risk

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// location names a value in a source file by JSON pointer (RFC 6901).
type location struct {
	file string // key into sources.trees: the file path as given or resolved
	ptr  string // "" is the whole document
}

// child returns the location of the member named key.
func (l location) child(keys ...string) location {
	var b strings.Builder
	b.WriteString(l.ptr)
	for _, k := range keys {
		b.WriteByte('/')
		b.WriteString(escapePointer(k))
	}
	return location{file: l.file, ptr: b.String()}
}

// index returns the location of the i-th item of a sequence.
func (l location) index(i int) location {
	return location{file: l.file, ptr: l.ptr + "/" + strconv.Itoa(i)}
}

// under reports whether l is prefix or lies below it in the same file.
func (l location) under(prefix location) bool {
	if l.file != prefix.file {
		return false
	}
	return l.ptr == prefix.ptr || strings.HasPrefix(l.ptr, prefix.ptr+"/")
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")
var pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")

func escapePointer(s string) string { return pointerEscaper.Replace(s) }

// splitPointer splits a JSON pointer into unescaped reference tokens.
func splitPointer(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		parts[i] = pointerUnescaper.Replace(p)
	}
	return parts
}

// sources holds the parsed YAML node trees of the files an API description
// is made of, so that JSON pointers can be turned into line numbers. The
// root file is parsed up front, files reached through $ref on first use.
type sources struct {
	root       string
	trees      map[string]*yaml.Node
	readFiles  bool // whether files other than the root may be read
	failedRead map[string]bool
}

func newSources(root string, tree *yaml.Node, readFiles bool) *sources {
	return &sources{
		root:       root,
		trees:      map[string]*yaml.Node{root: documentContent(tree)},
		readFiles:  readFiles,
		failedRead: map[string]bool{},
	}
}

func documentContent(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// tree returns the root node of file, or nil when it cannot be read.
func (s *sources) tree(file string) *yaml.Node {
	if t, ok := s.trees[file]; ok {
		return t
	}
	if !s.readFiles || s.failedRead[file] {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		s.failedRead[file] = true
		return nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		s.failedRead[file] = true
		return nil
	}
	t := documentContent(&n)
	s.trees[file] = t
	return t
}

// node returns the node at loc and the line of the key or item that holds
// it. When the pointer does not exist in full, it returns the deepest node
// that does, so a finding about a missing keyword points at its parent.
func (s *sources) node(loc location) (*yaml.Node, int) {
	n := s.tree(loc.file)
	if n == nil {
		return nil, 0
	}
	line := n.Line
	for _, tok := range splitPointer(loc.ptr) {
		next, keyLine := childNode(n, tok)
		if next == nil {
			break
		}
		n, line = next, keyLine
	}
	return n, line
}

// exact returns the node at loc, or nil when the pointer does not resolve.
func (s *sources) exact(loc location) *yaml.Node {
	n := s.tree(loc.file)
	for _, tok := range splitPointer(loc.ptr) {
		if n == nil {
			return nil
		}
		n, _ = childNode(n, tok)
	}
	return n
}

// line returns the 1-based line of loc, or 0 when the file is unknown.
func (s *sources) line(loc location) int {
	_, line := s.node(loc)
	return line
}

// childNode returns the member of a mapping or the item of a sequence
// named by tok, with the line of its key (for mappings) or of the item.
// Aliases are followed, so YAML anchors resolve like any other value.
func childNode(n *yaml.Node, tok string) (*yaml.Node, int) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil, 0
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == tok {
				v := n.Content[i+1]
				for v.Kind == yaml.AliasNode && v.Alias != nil {
					v = v.Alias
				}
				return v, n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(tok)
		if err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i].Line
		}
	}
	return nil, 0
}

// mappingValue returns the value of key in mapping node n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	v, _ := childNode(n, key)
	return v
}

// follow returns the location that ref points to, seen from loc's file.
// A ref is "#/pointer", "file", or "file#/pointer", with file relative to
// the referencing file.
func (l location) follow(ref string) location {
	file, frag, _ := strings.Cut(ref, "#")
	target := l.file
	if file != "" {
		target = resolveFile(l.file, file)
	}
	return location{file: target, ptr: frag}
}

func resolveFile(from, ref string) string {
	if filepath.IsAbs(ref) || strings.Contains(ref, "://") {
		return ref
	}
	return filepath.Join(filepath.Dir(from), filepath.FromSlash(ref))
}

// describe returns "file:line" for messages.
func (s *sources) describe(loc location) string {
	if line := s.line(loc); line > 0 {
		return fmt.Sprintf("%s:%d", loc.file, line)
	}
	return loc.file
}
