package risk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// MaxSpecBytes is the largest API description accepted. The biggest public
// descriptions in common use (Stripe, GitHub) are under 20 MiB.
const MaxSpecBytes = 64 << 20

// ErrNotOpenAPI is returned for a document that has neither an "openapi"
// nor a "swagger" field at its root.
var ErrNotOpenAPI = errors.New("not an OpenAPI or Swagger document: the root has no openapi or swagger field")

// Spec is a loaded API description together with the YAML node trees of
// its source files, which map findings to lines.
type Spec struct {
	// File is the path of the root document, as given to LoadSpec.
	File string
	// Format is "Swagger 2.0", "OpenAPI 3.0.3" or similar: the field
	// written at the document's root.
	Format string
	// Title and Version are the document's info.title and info.version.
	Title   string
	Version string

	doc      *openapi3.T // Swagger 2.0 documents are converted to 3.0
	swagger2 bool
	src      *sources
	// dangling lists the local $refs that point at nothing. They are
	// replaced by empty objects before loading, so that one broken
	// reference does not stop the audit of the whole document.
	dangling []danglingRef
}

type danglingRef struct {
	loc location
	ref string
}

// LoadSpec reads and parses the API description at file. It follows $ref
// to other local files, never to URLs.
func LoadSpec(ctx context.Context, file string) (*Spec, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading API description: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading API description %s: %w", file, err)
	}
	return parseSpec(ctx, file, data, true)
}

// ParseSpec parses an API description held in memory. name labels the
// findings. A $ref to another file is an error, because data has no
// directory to resolve it against.
func ParseSpec(ctx context.Context, name string, data []byte) (*Spec, error) {
	return parseSpec(ctx, name, data, false)
}

func parseSpec(ctx context.Context, name string, data []byte, readFiles bool) (*Spec, error) {
	if len(data) > MaxSpecBytes {
		return nil, fmt.Errorf("API description %s is larger than %d bytes", name, MaxSpecBytes)
	}

	// kin-openapi and the node tree parse the same bytes, so both run at
	// once on machines with more than one core. The loader gets a guessed
	// version, which is checked below.
	guess := swaggerKey.Match(data[:min(len(data), 64<<10)])
	loaded := make(chan loadResult, 1)
	go func() { loaded <- loadDoc(ctx, name, data, readFiles, guess) }()

	var tree yaml.Node
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("parsing API description %s: %w", name, err)
	}
	root := documentContent(&tree)
	spec := &Spec{File: name, src: newSources(name, &tree, readFiles)}
	switch {
	case root == nil || root.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("parsing API description %s: %w", name, ErrNotOpenAPI)
	case scalarValue(root, "openapi") != "":
		spec.Format = "OpenAPI " + scalarValue(root, "openapi")
	case scalarValue(root, "swagger") != "":
		spec.Format, spec.swagger2 = "Swagger "+scalarValue(root, "swagger"), true
	default:
		return nil, fmt.Errorf("parsing API description %s: %w", name, ErrNotOpenAPI)
	}

	res := <-loaded
	if guess != spec.swagger2 {
		res = loadDoc(ctx, name, data, readFiles, spec.swagger2)
	}
	if spec.dangling = findDanglingRefs(root, location{file: name}); len(spec.dangling) > 0 && res.err != nil {
		// Retry without the broken references, which findDanglingRefs
		// has emptied in the tree.
		patched, err := yaml.Marshal(&tree)
		if err != nil {
			return nil, fmt.Errorf("parsing API description %s: %w", name, err)
		}
		res = loadDoc(ctx, name, patched, readFiles, spec.swagger2)
	}
	if res.err != nil {
		return nil, fmt.Errorf("parsing API description %s: %w", name, res.err)
	}
	spec.doc = res.doc
	if spec.doc.Info != nil {
		spec.Title = spec.doc.Info.Title
		spec.Version = spec.doc.Info.Version
	}
	return spec, nil
}

// swaggerKey matches the "swagger" field of Swagger 2.0 documents in YAML
// or JSON. OpenAPI 3 documents have an "openapi" field instead.
var swaggerKey = regexp.MustCompile(`(?m)^["']?swagger["']?\s*:|"swagger"\s*:\s*"2`)

type loadResult struct {
	doc *openapi3.T
	err error
}

// loadDoc loads the document with kin-openapi, converting Swagger 2.0 to
// OpenAPI 3.
func loadDoc(ctx context.Context, name string, data []byte, readFiles, swagger2 bool) (res loadResult) {
	// A panic in kin-openapi, a large parser of untrusted input, becomes an
	// error for this one document, so a batch audit reports it and goes on
	// with the others.
	defer func() {
		if r := recover(); r != nil {
			res = loadResult{err: fmt.Errorf("the OpenAPI loader failed: %v", r)}
		}
	}()
	if swagger2 {
		res.doc, res.err = loadV2(ctx, name, data, readFiles)
	} else {
		res.doc, res.err = loadV3(ctx, name, data, readFiles)
	}
	return res
}

func scalarValue(n *yaml.Node, key string) string {
	v := mappingValue(n, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

func newLoader(ctx context.Context, readFiles bool) *openapi3.Loader {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	if readFiles {
		// ReadFromFile reads local files and rejects every URL scheme, so an
		// API description can never make the audit fetch from the network.
		loader.IsExternalRefsAllowed = true
		loader.ReadFromURIFunc = openapi3.ReadFromFile
	}
	return loader
}

func fileURL(name string) *url.URL {
	return &url.URL{Path: filepath.ToSlash(name)}
}

func loadV3(ctx context.Context, name string, data []byte, readFiles bool) (*openapi3.T, error) {
	doc, err := newLoader(ctx, readFiles).LoadFromDataWithPath(data, fileURL(name))
	if err != nil {
		return nil, err
	}
	if doc.Paths == nil {
		doc.Paths = openapi3.NewPaths()
	}
	return doc, nil
}

func loadV2(ctx context.Context, name string, data []byte, readFiles bool) (*openapi3.T, error) {
	var doc2 openapi2.T
	if err := openapi2.UnmarshalFromData(data, &doc2); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(doc2.Swagger, "2.") {
		return nil, fmt.Errorf("unsupported swagger version %q: only 2.0 is supported", doc2.Swagger)
	}
	doc, err := openapi2conv.ToV3WithLoader(&doc2, newLoader(ctx, readFiles), fileURL(name))
	if err != nil {
		return nil, fmt.Errorf("converting Swagger 2.0 to OpenAPI 3: %w", err)
	}
	if doc.Paths == nil {
		doc.Paths = openapi3.NewPaths()
	}
	return doc, nil
}

// findDanglingRefs finds the local $refs ("#/...") under n that do not
// resolve in the same document, and empties the objects that hold them.
func findDanglingRefs(root *yaml.Node, loc location) []danglingRef {
	var out []danglingRef
	var walk func(n *yaml.Node, loc location)
	walk = func(n *yaml.Node, loc location) {
		switch n.Kind {
		case yaml.MappingNode:
			if ref := scalarValue(n, "$ref"); strings.HasPrefix(ref, "#") && !resolves(root, ref[1:]) {
				out = append(out, danglingRef{loc: loc, ref: ref})
				n.Content = nil
				return
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], loc.child(n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, loc.index(i))
			}
		}
	}
	walk(root, loc)
	return out
}

func resolves(root *yaml.Node, ptr string) bool {
	n := root
	for _, tok := range splitPointer(ptr) {
		if n, _ = childNode(n, tok); n == nil {
			return false
		}
	}
	return true
}
