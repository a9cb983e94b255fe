package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// YAML renders c in config.yaml's layout: sections and keys in struct
// order, durations as Go durations, so that Load reads back exactly c.
// comments (key path, e.g. "mongo.uri" → text) become line comments.
func (c Config) YAML(comments map[string]string) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{encodeNode("", reflect.ValueOf(c), comments)}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return buf.Bytes(), nil
}

// JSON renders c as indented JSON with the configuration's key names and
// durations as Go durations.
func (c Config) JSON() ([]byte, error) {
	var tree any
	if err := encodeNode("", reflect.ValueOf(c), nil).Decode(&tree); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return json.MarshalIndent(tree, "", "  ")
}

func encodeNode(path string, v reflect.Value, comments map[string]string) *yaml.Node {
	switch {
	case v.Type() == durationType:
		return scalar("!!str", v.Interface().(fmt.Stringer).String(), yaml.DoubleQuotedStyle)
	case isSection(v.Type()):
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			name := tagName(v.Type().Field(i))
			key := join(path, name)
			value := encodeNode(key, v.Field(i), comments)
			k := scalar("!!str", name, 0)
			if text := comments[key]; text != "" {
				if value.Kind == yaml.ScalarNode {
					value.LineComment = text
				} else {
					k.LineComment = text
				}
			}
			n.Content = append(n.Content, k, value)
		}
		return n
	}
	switch v.Kind() {
	case reflect.String:
		return scalar("!!str", v.String(), yaml.DoubleQuotedStyle)
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool()), 0)
	case reflect.Int:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10), 0)
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle // []
		}
		for i := range v.Len() {
			n.Content = append(n.Content, encodeNode(indexPath(path, i), v.Index(i), comments))
		}
		return n
	}
	// Config holds only the kinds above; a new one must be added here
	// (TestEncodeRoundTrips fails until it is).
	return scalar("!!str", fmt.Sprint(v.Interface()), yaml.DoubleQuotedStyle)
}

func scalar(tag, value string, style yaml.Style) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, Style: style}
}
