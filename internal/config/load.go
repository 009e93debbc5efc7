package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// EnvPrefix starts every environment variable sesame reads.
const EnvPrefix = "SESAME_"

// EnvConfigFile names the configuration file when --config is not given.
const EnvConfigFile = "SESAME_CONFIG"

// envNotKeys are SESAME_* variables that are not configuration keys yet are
// allowed in the environment: the file name, and the test suite's switches
// (SESAME_TEST_* and SESAME_REQUIRE_SERVICES, read by internal/testenv).
var envNotKeys = []string{EnvConfigFile, "SESAME_REQUIRE_SERVICES"}

const envTestPrefix = "SESAME_TEST_"

// Key is one configuration key.
type Key struct {
	Name string       // dotted name, e.g. "store.postgres.dsn"
	Env  string       // environment variable, e.g. "SESAME_STORE_POSTGRES_DSN"
	Type reflect.Type // string, int, bool or time.Duration
	path []int        // field index path in Config
}

var durationType = reflect.TypeFor[time.Duration]()

// Keys lists every configuration key in the order of the Config struct.
func Keys() []Key {
	var keys []Key
	var walk func(t reflect.Type, prefix string, path []int)
	walk = func(t reflect.Type, prefix string, path []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("key")
			if name == "" {
				continue
			}
			full := prefix + name
			p := append(append([]int(nil), path...), i)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, full+".", p)
				continue
			}
			keys = append(keys, Key{Name: full, Env: EnvName(full), Type: f.Type, path: p})
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return keys
}

// sections lists the keys that name a section (e.g. "store", "store.sqlite").
func sections() map[string]bool {
	s := map[string]bool{}
	for _, k := range Keys() {
		parts := strings.Split(k.Name, ".")
		for i := 1; i < len(parts); i++ {
			s[strings.Join(parts[:i], ".")] = true
		}
	}
	return s
}

// EnvName is the environment variable of a dotted key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Problem is one thing wrong with the configuration, tied to its key (or
// environment variable, or file).
type Problem struct {
	Key     string
	Message string
}

func (p Problem) String() string { return p.Key + ": " + p.Message }

// Error lists every problem found in a configuration. Its message has one
// problem per line.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Problems returns the problems of err when it is (or wraps) a config Error.
func Problems(err error) []Problem {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Problems
	}
	return nil
}

type problems []Problem

func (ps *problems) add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}

// Load reads the configuration: defaults, then the YAML file (when file is
// not empty), then SESAME_* environment variables. It rejects unknown keys in
// the file and unknown SESAME_* variables, fills the paths derived from
// data_dir, and validates the result. Every problem is reported at once in
// an *Error, each naming its key; the returned Config is then only good for
// showing. A file that cannot be read or parsed is reported alone.
func Load(file string) (*Config, error) {
	v := viper.New()
	v.SetEnvPrefix(strings.TrimSuffix(EnvPrefix, "_"))
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	keys := Keys()
	def := reflect.ValueOf(Default()).Elem()
	for _, k := range keys {
		v.SetDefault(k.Name, def.FieldByIndex(k.path).Interface())
		if err := v.BindEnv(k.Name, k.Env); err != nil {
			return nil, fmt.Errorf("config: bind %s: %w", k.Env, err)
		}
	}

	var ps problems
	if file != "" {
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config: read %s: %w", file, err)
		}
		ps = append(ps, unknownFileKeys(file)...)
	}
	ps = append(ps, unknownEnv(os.Environ())...)

	cfg := Default()
	out := reflect.ValueOf(cfg).Elem()
	for _, k := range keys {
		raw := v.Get(k.Name)
		if raw == nil {
			continue // "key:" with no value keeps the default
		}
		val, err := convert(raw, k.Type)
		if err != nil {
			where := k.Name
			if s, ok := os.LookupEnv(k.Env); ok && s != "" {
				where = k.Env
			}
			ps.add(where, "%s", err)
			continue
		}
		out.FieldByIndex(k.path).Set(val)
	}
	cfg.Resolve()
	ps = append(ps, cfg.problems()...)
	return cfg, ps.err()
}

// unknownFileKeys reads the file alone and reports the keys Config has not.
func unknownFileKeys(file string) []Problem {
	v := viper.New()
	v.SetConfigFile(file)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		return []Problem{{Key: file, Message: err.Error()}}
	}
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k.Name] = true
	}
	secs := sections()
	var ps problems
	all := v.AllKeys()
	sort.Strings(all)
	for _, k := range all {
		switch {
		case known[k]:
		case secs[k]:
			if v.Get(k) != nil {
				ps.add(k, "is a section: give its keys under it, not a value")
			}
		default:
			ps.add(k, "unknown key%s", suggest(k))
		}
	}
	return ps
}

// unknownEnv reports SESAME_* variables that name no key.
func unknownEnv(environ []string) []Problem {
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k.Env] = true
	}
	for _, n := range envNotKeys {
		known[n] = true
	}
	var ps problems
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || known[name] || strings.HasPrefix(name, envTestPrefix) {
			continue
		}
		ps.add(name, "unknown environment variable: no configuration key has this name")
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	return ps
}

// suggest names the key the reader probably meant, when one differs from k
// only in its section or its last segment's case and separators.
func suggest(k string) string {
	last := k[strings.LastIndex(k, ".")+1:]
	norm := strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(last))
	var found []string
	for _, key := range Keys() {
		l := key.Name[strings.LastIndex(key.Name, ".")+1:]
		if strings.ReplaceAll(l, "_", "") == norm {
			found = append(found, key.Name)
		}
	}
	if len(found) == 1 {
		return fmt.Sprintf(" (did you mean %s?)", found[0])
	}
	return ""
}

// convert turns a value read by viper (from YAML, the environment or the
// defaults) into a field of type t.
func convert(raw any, t reflect.Type) (reflect.Value, error) {
	switch {
	case t == durationType:
		d, err := toDuration(raw)
		return reflect.ValueOf(d), err
	case t.Kind() == reflect.String:
		s, err := toString(raw)
		return reflect.ValueOf(s), err
	case t.Kind() == reflect.Int:
		n, err := toInt(raw)
		return reflect.ValueOf(n), err
	case t.Kind() == reflect.Bool:
		b, err := toBool(raw)
		return reflect.ValueOf(b), err
	}
	return reflect.Value{}, fmt.Errorf("unsupported type %s", t)
}

func toString(raw any) (string, error) {
	switch x := raw.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("expected a text value, got %s", describe(raw))
}

func toInt(raw any) (int, error) {
	switch x := raw.(type) {
	case int:
		return x, nil
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		return int(x), nil
	case uint64:
		if x > math.MaxInt32 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return int(x), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("expected a whole number, got %s", describe(raw))
}

func toBool(raw any) (bool, error) {
	switch x := raw.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0", "":
			return false, nil
		}
		return false, fmt.Errorf("%q is not true or false", x)
	}
	return false, fmt.Errorf("expected true or false, got %s", describe(raw))
}

func toDuration(raw any) (time.Duration, error) {
	switch x := raw.(type) {
	case time.Duration:
		return x, nil
	case int:
		if x == 0 {
			return 0, nil
		}
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as \"30s\", \"5m\" or \"168h\"", x)
		}
		return d, nil
	}
	return 0, fmt.Errorf("expected a duration such as \"30s\", \"5m\" or \"168h\" (with its unit), got %s", describe(raw))
}

func describe(raw any) string {
	switch raw.(type) {
	case map[string]any:
		return "a section"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", raw)
}
