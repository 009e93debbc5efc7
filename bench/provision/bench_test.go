package provisionbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"sesame/internal/apps"
	"sesame/internal/testenv"
)

// people is how many new people each side provisions per run.
const people = 1000

func person(run int, side string, i int) apps.Account {
	name := fmt.Sprintf("%s%d.%04d", side, run, i)
	return apps.Account{Username: name, Email: name + "@example.org", GivenName: "Prénom",
		FamilyName: fmt.Sprintf("Nom %04d", i), Role: "editor", Enabled: true}
}

// BenchmarkProvision1kVsREST creates 1,000 people in a real WordPress
// through the connector (Ensure of people it has never seen: one create
// each, checked, with a random password), and 1,000 others with a bare
// loop that POSTs the same JSON to the same route over one keep-alive
// connection and checks for 201. The two sides create one person each in
// turn (the first alternating), so both meet the same machine load and a
// site of the same size. It reports both rates and connector_vs_rest, the
// connector's rate divided by the loop's.
func BenchmarkProvision1kVsREST(b *testing.B) { provision(b, false) }

// BenchmarkProvision1kLookUpFirstVsREST is the same with people the
// connector must look up before creating (Account.Owned set, as after a
// create whose answer was lost): a search by email, then the create. It
// shows what creating directly saves.
func BenchmarkProvision1kLookUpFirstVsREST(b *testing.B) { provision(b, true) }

func provision(b *testing.B, lookUpFirst bool) {
	wp := testenv.WordPress(b)
	ctx := context.Background()
	conn, err := apps.NewWordPress(apps.Config{BaseURL: wp.URL, Credentials: apps.Credentials{Username: wp.Admin, Password: wp.AppPassword}})
	if err != nil {
		b.Fatal(err)
	}
	raw := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	rawCreate := func(a apps.Account) error {
		body, _ := json.Marshal(map[string]any{"username": a.Username, "email": a.Email, "password": "Pw-" + a.Username + "-0123456789",
			"name": a.GivenName + " " + a.FamilyName, "first_name": a.GivenName, "last_name": a.FamilyName, "roles": []string{a.Role}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, wp.URL+"/?rest_route=%2Fwp%2Fv2%2Fusers", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(wp.Admin, wp.AppPassword)
		resp, err := raw.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
		}
		return nil
	}
	var connTime, rawTime time.Duration
	b.ResetTimer()
	for run := range b.N {
		for i := range people {
			viaConnector := func() {
				start := time.Now()
				a := person(run, "c", i)
				a.Owned = lookUpFirst
				res, err := conn.Ensure(ctx, a)
				connTime += time.Since(start)
				if err != nil || res.Outcome != apps.OutcomeCreated {
					b.Fatalf("connector: %+v %v", res, err)
				}
			}
			viaLoop := func() {
				start := time.Now()
				err := rawCreate(person(run, "r", i))
				rawTime += time.Since(start)
				if err != nil {
					b.Fatalf("REST loop: %v", err)
				}
			}
			// One creation each, in turn, the first alternating.
			if i%2 == 0 {
				viaConnector()
				viaLoop()
			} else {
				viaLoop()
				viaConnector()
			}
		}
	}
	b.StopTimer()
	n := float64(people * b.N)
	connRate, rawRate := n/connTime.Seconds(), n/rawTime.Seconds()
	b.ReportMetric(connRate, "connector_people/s")
	b.ReportMetric(rawRate, "rest_people/s")
	b.ReportMetric(connRate/rawRate, "connector_vs_rest")
	if want := 2*people*b.N + 1; wp.UserCount() != want {
		b.Fatalf("%d users in WordPress, want %d", wp.UserCount(), want)
	}
}
