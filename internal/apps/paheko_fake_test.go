package apps_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakePaheko answers like Paheko 1.4's API (src/include/lib/Paheko/API.php
// and API/User.php, Entities/Users/User.php), with the messages and statuses
// those files use: 401 without credentials, 403 "Invalid username or
// password", 403 "You do not have enough rights to make this request" below
// the route's access level, 409 when a member with the same name exists
// (unless force_duplicate), 403 for a category with configuration access,
// 400 for a validation error (a login email already used), 404 for an
// unknown member.
type fakePaheko struct {
	mu       sync.Mutex
	user     string
	pass     string
	level    int  // API key access: 1 read, 2 write, 9 admin
	old      bool // Paheko 1.3: no member routes
	cats     map[int]fakeCat
	members  map[int]*fakeMember
	nextID   int
	nextNum  int
	creates  int // members created
	modified int // members modified
	// beforeCreate, when set, runs (lock held) as a create arrives.
	beforeCreate func(*fakePaheko)
	srv          *httptest.Server
}

type fakeCat struct {
	Name       string
	PermConfig int
	PermUsers  int
}

type fakeMember struct {
	ID, Category, Number int
	Name, Email          string
}

// newFakePaheko starts a fake with Paheko's default categories (1 Membres
// actifs, 2 Anciens membres, 3 Administrateurs) and a write API key
// sesame:secret.
func newFakePaheko(t *testing.T) *fakePaheko {
	f := &fakePaheko{user: "sesame", pass: "secret", level: 2, nextID: 1, nextNum: 1,
		cats: map[int]fakeCat{
			1: {Name: "Membres actifs"},
			2: {Name: "Anciens membres"},
			3: {Name: "Administrateurs", PermConfig: 9, PermUsers: 9},
		},
		members: map[int]*fakeMember{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// add puts a member in, as the hoster would by hand.
func (f *fakePaheko) add(name, email string, cat int) *fakeMember {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &fakeMember{ID: f.nextID, Number: f.nextNum, Name: name, Email: email, Category: cat}
	f.members[m.ID] = m
	f.nextID++
	f.nextNum++
	return m
}

func (f *fakePaheko) member(id int) fakeMember {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.members[id]
}

func (f *fakePaheko) counts() (members, creates, modified int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.members), f.creates, f.modified
}

func (f *fakePaheko) export(m *fakeMember) map[string]any {
	return map[string]any{"has_password": false, "has_otp": false, "has_pgp_key": false,
		"id": m.ID, "id_category": m.Category, "date_login": nil, "date_updated": "2026-12-04 10:00:00",
		"id_parent": nil, "is_parent": false, "preferences": nil, "numero": m.Number, "nom": m.Name,
		"email": m.Email, "telephone": nil, "adresse": nil, "code_postal": nil, "ville": nil, "pays": "FR",
		"date_inscription": "2026-12-04"}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func perror(w http.ResponseWriter, status int, msg string) {
	reply(w, status, map[string]string{"error": msg})
}

var (
	fakeEmailSQL = regexp.MustCompile(`^SELECT id, id_category, nom, email FROM users WHERE email = '((?:[^']|'')*)' COLLATE NOCASE LIMIT 2;$`)
	fakeProbeSQL = regexp.MustCompile(`^SELECT id FROM users WHERE id_category IN \(([0-9, ]+)\) ORDER BY id LIMIT 1;$`)
)

func (f *fakePaheko) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html>Page non trouvée</html>")
		return
	}
	u, p, ok := r.BasicAuth()
	switch {
	case !ok:
		perror(w, http.StatusUnauthorized, "No username or password supplied")
		return
	case u != f.user || p != f.pass:
		perror(w, http.StatusForbidden, "Invalid username or password")
		return
	}
	_ = r.ParseForm()
	path := strings.TrimPrefix(r.URL.Path, "/api/")
	switch {
	case path == "sql":
		f.sql(w, r)
	case f.old && strings.HasPrefix(path, "user/"):
		perror(w, http.StatusNotFound, "Unknown user action")
	case path == "user/categories":
		out := map[string]any{}
		for id, c := range f.cats {
			out[strconv.Itoa(id)] = map[string]any{"id": id, "name": c.Name, "perm_web": 1, "perm_documents": 1,
				"perm_users": c.PermUsers, "perm_accounting": 0, "perm_subscribe": 0, "perm_connect": 1,
				"perm_config": c.PermConfig, "hidden": 0, "count": 0}
		}
		reply(w, http.StatusOK, out)
	case path == "user/new" && r.Method == http.MethodPost:
		f.create(w, r)
	case regexp.MustCompile(`^user/[0-9]+$`).MatchString(path):
		id, _ := strconv.Atoi(strings.TrimPrefix(path, "user/"))
		m := f.members[id]
		if m == nil {
			perror(w, http.StatusNotFound, "The requested user ID does not exist")
			return
		}
		if r.Method == http.MethodPost {
			if f.level < 2 {
				perror(w, http.StatusForbidden, "You do not have enough rights to make this request")
				return
			}
			if c := f.cats[m.Category]; c.PermConfig == 9 || c.PermUsers == 9 {
				perror(w, http.StatusForbidden, "Seul un membre administrateur peut modifier un autre membre administrateur.")
				return
			}
			name, email := m.Name, m.Email
			if v, ok := r.PostForm["nom"]; ok {
				name = v[0]
			}
			if v, ok := r.PostForm["email"]; ok {
				email = v[0]
			}
			if f.emailTaken(email, m.ID) {
				perror(w, http.StatusBadRequest, `Le champ "Adresse E-Mail" (utilisé comme identifiant de connexion) est déjà utilisé par un autre membre. Il doit être unique pour chaque membre.`)
				return
			}
			if name != m.Name || email != m.Email {
				f.modified++
			}
			m.Name, m.Email = name, email
		}
		reply(w, http.StatusOK, f.export(m))
	default:
		perror(w, http.StatusNotFound, "Unknown user action")
	}
}

func (f *fakePaheko) emailTaken(email string, except int) bool {
	for _, o := range f.members {
		if o.ID != except && strings.EqualFold(o.Email, email) {
			return true
		}
	}
	return false
}

func (f *fakePaheko) sql(w http.ResponseWriter, r *http.Request) {
	q := r.Form.Get("sql")
	var rows []map[string]any
	switch {
	case fakeEmailSQL.MatchString(q):
		email := strings.ReplaceAll(fakeEmailSQL.FindStringSubmatch(q)[1], "''", "'")
		for _, id := range f.ids() {
			if m := f.members[id]; strings.EqualFold(m.Email, email) {
				rows = append(rows, map[string]any{"id": m.ID, "id_category": m.Category, "nom": m.Name, "email": m.Email})
			}
		}
	case fakeProbeSQL.MatchString(q):
		in := map[int]bool{}
		for _, s := range strings.Split(fakeProbeSQL.FindStringSubmatch(q)[1], ",") {
			n, _ := strconv.Atoi(strings.TrimSpace(s))
			in[n] = true
		}
		for _, id := range f.ids() {
			if in[f.members[id].Category] {
				rows = append(rows, map[string]any{"id": id})
				break
			}
		}
	default:
		perror(w, http.StatusBadRequest, "Error in SQL statement: unexpected query: "+q)
		return
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	reply(w, http.StatusOK, map[string]any{"count": len(rows), "results": rows})
}

func (f *fakePaheko) ids() []int {
	var ids []int
	for id := range f.members {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

func (f *fakePaheko) create(w http.ResponseWriter, r *http.Request) {
	if f.level < 2 {
		perror(w, http.StatusForbidden, "You do not have enough rights to make this request")
		return
	}
	if f.beforeCreate != nil {
		f.beforeCreate(f)
	}
	name, email := r.PostForm.Get("nom"), r.PostForm.Get("email")
	if r.PostForm.Get("force_duplicate") == "" {
		for _, m := range f.members {
			if strings.EqualFold(m.Name, name) {
				perror(w, http.StatusConflict, "This user seems to be a duplicate of an existing one")
				return
			}
		}
	}
	cat := 1
	if v := r.PostForm.Get("id_category"); v != "" {
		n, _ := strconv.Atoi(v)
		if c, ok := f.cats[n]; !ok || c.PermConfig != 0 {
			perror(w, http.StatusForbidden, "You are not allowed to create a user in this category")
			return
		}
		cat = n
	}
	if strings.TrimSpace(name) == "" {
		perror(w, http.StatusBadRequest, `"Nom & prénom" : ce champ ne peut être vide`)
		return
	}
	if f.emailTaken(email, 0) {
		perror(w, http.StatusBadRequest, `Le champ "Adresse E-Mail" (utilisé comme identifiant de connexion) est déjà utilisé par un autre membre. Il doit être unique pour chaque membre.`)
		return
	}
	m := &fakeMember{ID: f.nextID, Number: f.nextNum, Name: name, Email: email, Category: cat}
	f.members[m.ID] = m
	f.nextID++
	f.nextNum++
	f.creates++
	reply(w, http.StatusOK, f.export(m))
}

// form decodes a recorded form body.
func form(t *testing.T, body string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("form %q: %v", body, err)
	}
	return v
}

// sqlFor is the email query the connector must send.
func sqlFor(email string) string {
	return fmt.Sprintf("SELECT id, id_category, nom, email FROM users WHERE email = '%s' COLLATE NOCASE LIMIT 2;", strings.ReplaceAll(email, "'", "''"))
}
