package apps_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeNextcloud answers like Nextcloud's OCS API v2 (provisioning_api's
// UsersController and GroupsController, AUserDataOCSController::getUserData,
// OC\AppFramework\OCS\V2Response, OCSMiddleware) and user_oidc's
// OcsApiController::createUser (create-or-update through
// UserMapper::getOrCreate). OCS v2 status mapping as V2Response does it:
// success is HTTP 200 with statuscode 200; 997 becomes HTTP 401, 404/998
// HTTP 404, other codes below 200 (101 ... 108) HTTP 400.
type fakeNextcloud struct {
	mu          sync.Mutex
	passwords   map[string]string // app passwords of the accounts that may call the API
	users       map[string]*fakeNCUser
	groups      map[string]bool
	apps        []string
	hashUIDs    bool // user_oidc provider registered with --unique-uid=1
	successCode int  // 200 (v2); 100 to answer as v1 does
	created     int  // users created by pre-provisioning
	srv         *httptest.Server
}

type fakeNCUser struct {
	ID, Backend, DisplayName, Email, Quota, Language string
	Enabled                                          bool
	Groups                                           []string
	SubadminOf                                       []string
}

func newFakeNextcloud(t *testing.T) *fakeNextcloud {
	f := &fakeNextcloud{passwords: map[string]string{"root": "app-pass"}, successCode: 200,
		users: map[string]*fakeNCUser{
			"root": {ID: "root", Backend: "Database", DisplayName: "root", Quota: "none", Enabled: true, Groups: []string{"admin"}},
		},
		groups: map[string]bool{"admin": true},
		apps:   []string{"dav", "files", "provisioning_api", "user_oidc"}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNextcloud) user(id string) fakeNCUser {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := *f.users[id]
	u.Groups = slices.Clone(u.Groups)
	return u
}

func (f *fakeNextcloud) add(u fakeNCUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[u.ID] = &u
	for _, g := range u.Groups {
		f.groups[g] = true
	}
}

func (f *fakeNextcloud) createdCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created
}

// ocsReply writes an OCS v2 envelope.
func (f *fakeNextcloud) ocsReply(w http.ResponseWriter, code int, message string, data any) {
	status := code
	switch {
	case code == 200 || code == 100:
		status = http.StatusOK
	case code == 997:
		status = http.StatusUnauthorized
	case code == 998:
		status = http.StatusNotFound
	case code < 200 || code > 600:
		status = http.StatusBadRequest
	}
	meta := map[string]any{"status": "failure", "statuscode": code, "message": message}
	if status == http.StatusOK {
		meta["status"], meta["message"] = "ok", "OK"
	}
	if data == nil {
		data = []any{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"ocs": map[string]any{"meta": meta, "data": data}})
}

// size is Util::computerFileSize.
func size(s string) (float64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v, true
	}
	units := []struct {
		u string
		m float64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"tb", 1 << 40}, {"pb", 1 << 50},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"p", 1 << 50}, {"b", 1}}
	for _, u := range units {
		if strings.HasSuffix(s, u.u) {
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, u.u)), 64)
			if err != nil {
				return 0, false
			}
			return math.Round(v * u.m), true
		}
	}
	return 0, false
}

func (f *fakeNextcloud) data(u *fakeNCUser) map[string]any {
	q := any(float64(-3))
	if u.Quota != "none" && u.Quota != "" {
		v, _ := size(u.Quota)
		q = v
	}
	var email any
	if u.Email != "" {
		email = u.Email
	}
	return map[string]any{"enabled": u.Enabled, "storageLocation": "/var/www/data/" + u.ID, "id": u.ID,
		"firstLoginTimestamp": -1, "lastLoginTimestamp": 0, "lastLogin": 0, "backend": u.Backend, "subadmin": []string{},
		"quota": map[string]any{"free": 1e9, "used": 0, "total": 1e9, "relative": 0, "quota": q}, "manager": "",
		"email": email, "additional_mail": []string{}, "displayname": u.DisplayName, "display-name": u.DisplayName,
		"phone": "", "address": "", "website": "", "twitter": "", "fediverse": "", "organisation": "", "role": "",
		"headline": "", "biography": "", "profile_enabled": "1", "pronouns": "", "groups": u.Groups,
		"language": u.Language, "locale": "", "timezone": "", "notify_email": nil,
		"backendCapabilities": map[string]bool{"setDisplayName": u.Backend == "Database", "setPassword": u.Backend == "Database"}}
}

func (f *fakeNextcloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/ocs/v2.php/") {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/ocs/v2.php")
	if r.Header.Get("OCS-APIRequest") != "true" {
		f.ocsReply(w, 997, "CSRF check failed", nil)
		return
	}
	u, p, ok := r.BasicAuth()
	me := f.users[u]
	if !ok || me == nil || f.passwords[u] == "" || p != f.passwords[u] {
		f.ocsReply(w, 997, "Current user is not logged in", nil)
		return
	}
	isAdmin := slices.Contains(me.Groups, "admin")
	// adminOnly: routes without #[NoAdminRequired].
	adminOnly := path == "/cloud/apps" || path == "/apps/user_oidc/api/v1/user" || path == "/cloud/groups"
	ok200 := func(data any) { f.ocsReply(w, f.successCode, "", data) }
	_ = r.ParseForm()
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/cloud/user" && r.Method == http.MethodGet:
		d := f.data(me)
		d["display-name"] = d["displayname"]
		delete(d, "displayname")
		ok200(d)
		return
	case adminOnly && !isAdmin:
		f.ocsReply(w, 403, "Logged in account must be an administrator", nil)
		return
	case path == "/cloud/apps" && r.Method == http.MethodGet:
		ok200(map[string]any{"apps": f.apps})
	case path == "/apps/user_oidc/api/v1/user" && r.Method == http.MethodPost:
		if !slices.Contains(f.apps, "user_oidc") {
			f.ocsReply(w, 998, "Invalid query, please check the syntax. API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.", nil)
			return
		}
		var in struct {
			ProviderID  int    `json:"providerId"`
			UserID      string `json:"userId"`
			DisplayName string `json:"displayName"`
			Email       string `json:"email"`
			Quota       string `json:"quota"`
		}
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&in) != nil || in.ProviderID == 0 || in.UserID == "" {
			f.ocsReply(w, 400, "bad request", nil)
			return
		}
		id := in.UserID
		if f.hashUIDs {
			h := sha256.Sum256([]byte(strconv.Itoa(in.ProviderID) + "_" + in.UserID))
			id = hex.EncodeToString(h[:])
		}
		nu := f.users[id]
		if nu == nil {
			nu = &fakeNCUser{ID: id, Backend: "user_oidc", Enabled: true, Quota: "none"}
			f.users[id] = nu
			f.created++
		}
		if in.DisplayName != "" {
			nu.DisplayName = in.DisplayName
		}
		if in.Email != "" {
			nu.Email = in.Email
		}
		if in.Quota != "" {
			nu.Quota = in.Quota
		}
		ok200(map[string]string{"user_id": id})
	case path == "/cloud/groups" && r.Method == http.MethodPost:
		g := r.PostForm.Get("groupid")
		switch {
		case g == "":
			f.ocsReply(w, 101, "Invalid group name", nil)
		case f.groups[g]:
			f.ocsReply(w, 102, "group exists", nil)
		default:
			f.groups[g] = true
			ok200(nil)
		}
	case len(parts) >= 3 && parts[0] == "cloud" && parts[1] == "users":
		target := f.users[parts[2]]
		if target == nil {
			switch {
			case len(parts) == 3 && r.Method == http.MethodGet:
				f.ocsReply(w, 404, "User does not exist", nil)
			case len(parts) == 4 && parts[3] == "groups":
				f.ocsReply(w, 103, "", nil)
			default:
				f.ocsReply(w, 997, "", nil)
			}
			return
		}
		shared := slices.ContainsFunc(target.Groups, func(g string) bool { return slices.Contains(me.SubadminOf, g) })
		if !isAdmin && !shared && !(len(parts) == 4 && parts[3] == "groups") {
			f.ocsReply(w, 997, "", nil)
			return
		}
		switch {
		case len(parts) == 3 && r.Method == http.MethodGet:
			ok200(f.data(target))
		case len(parts) == 3 && r.Method == http.MethodPut:
			key, value := r.PostForm.Get("key"), r.PostForm.Get("value")
			switch key {
			case "display", "displayname":
				if target.Backend != "Database" {
					f.ocsReply(w, 102, "Invalid displayname", nil)
					return
				}
				target.DisplayName = value
			case "email":
				target.Email = value
			case "quota":
				if _, ok := size(value); !ok && value != "none" && value != "default" {
					f.ocsReply(w, 103, "Invalid quota value "+value, nil)
					return
				}
				target.Quota = value
			case "language":
				target.Language = value
			default:
				f.ocsReply(w, 103, "", nil)
				return
			}
			ok200(nil)
		case len(parts) == 4 && r.Method == http.MethodPut && (parts[3] == "enable" || parts[3] == "disable"):
			target.Enabled = parts[3] == "enable"
			ok200(nil)
		case len(parts) == 4 && parts[3] == "groups" && r.Method == http.MethodPost:
			g := r.PostForm.Get("groupid")
			switch {
			case g == "":
				f.ocsReply(w, 101, "", nil)
			case !f.groups[g]:
				f.ocsReply(w, 102, "", nil)
			case !isAdmin && !slices.Contains(me.SubadminOf, g):
				f.ocsReply(w, 104, "", nil)
			default:
				if !slices.Contains(target.Groups, g) {
					target.Groups = append(target.Groups, g)
				}
				ok200(nil)
			}
		case len(parts) == 4 && parts[3] == "groups" && r.Method == http.MethodDelete:
			g := r.Form.Get("groupid")
			switch {
			case g == "":
				f.ocsReply(w, 101, "", nil)
			case !f.groups[g]:
				f.ocsReply(w, 102, "", nil)
			default:
				target.Groups = slices.DeleteFunc(target.Groups, func(x string) bool { return x == g })
				ok200(nil)
			}
		default:
			f.ocsReply(w, 998, "Invalid query", nil)
		}
	default:
		f.ocsReply(w, 998, "Invalid query", nil)
	}
}
