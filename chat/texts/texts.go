// Package texts holds every sentence Huimin's desk and conversations say to
// people, one YAML file per audience (citizen.yaml, officer.yaml), and
// renders them with text/template. Go code names a text by its key; the
// words live here, so that the bureau can read and change them in one place.
package texts

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var files embed.FS

// Audience is who reads a book of texts.
type Audience string

// The audiences, one YAML file each.
const (
	Citizen Audience = "citizen"
	Officer Audience = "officer"
)

// Book is the texts of one audience.
type Book struct {
	audience Audience
	texts    map[string]*template.Template
	// static holds the texts without a field, said as they are: many are
	// said on every message (the survey's level names, menu words), and
	// executing a template for them cost several percent of its CPU.
	static map[string]string
}

// Load parses the built-in texts of an audience.
func Load(a Audience) (*Book, error) {
	raw, err := files.ReadFile(string(a) + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("texts %s: %w", a, err)
	}
	return Parse(a, raw)
}

// MustLoad is Load for the built-in texts, whose parsing a test checks.
func MustLoad(a Audience) *Book {
	b, err := Load(a)
	if err != nil {
		panic(err)
	}
	return b
}

// Parse reads a YAML map of text keys to templates ({{.X}} fields).
func Parse(a Audience, raw []byte) (*Book, error) {
	var m map[string]string
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("texts %s: %w", a, err)
	}
	b := &Book{audience: a, texts: make(map[string]*template.Template, len(m)), static: map[string]string{}}
	for k, v := range m {
		t, err := template.New(k).Option("missingkey=zero").Parse(v)
		if err != nil {
			return nil, fmt.Errorf("texts %s: %s: %w", a, k, err)
		}
		b.texts[k] = t
		if !strings.Contains(v, "{{") {
			b.static[k] = v
		}
	}
	return b, nil
}

// Has reports whether the book has a text.
func (b *Book) Has(key string) bool {
	_, ok := b.texts[key]
	return ok
}

// Keys lists the book's text keys, sorted.
func (b *Book) Keys() []string {
	keys := make([]string, 0, len(b.texts))
	for k := range b.texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Say renders a text. A missing key or a template that fails renders as
// the key in brackets, which tests catch and a person can report.
func (b *Book) Say(key string, data any) string {
	s, err := b.Render(key, data)
	if err != nil {
		return "[" + key + "]"
	}
	return s
}

// Render renders a text, or says why it cannot.
func (b *Book) Render(key string, data any) (string, error) {
	if s, ok := b.static[key]; ok {
		return s, nil
	}
	t, ok := b.texts[key]
	if !ok {
		return "", fmt.Errorf("texts %s: no text %q", b.audience, key)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("texts %s: %s: %w", b.audience, key, err)
	}
	return buf.String(), nil
}
