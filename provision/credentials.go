package provision

import (
	"encoding/json"
	"errors"
	"fmt"

	"sesame/internal/apps"
	"sesame/internal/secretbox"
	"sesame/internal/store"
)

// credentialsPurpose names the key that seals provisioning credentials.
const credentialsPurpose = "service provisioning credentials v1"

// Secret is what a service's sealed ProvisioningSecret holds: the API
// credentials and the kind's connector settings (see apps.NewNextcloud,
// apps.NewWordPress, apps.NewPaheko).
type Secret struct {
	Credentials apps.Credentials  `json:"credentials"`
	Settings    map[string]string `json:"settings,omitempty"`
}

// Box returns the box that seals provisioning credentials under master.
func Box(master []byte) (*secretbox.Box, error) {
	return secretbox.New(master, credentialsPurpose)
}

// Seal encrypts sec for svc (bound to its id).
func Seal(box *secretbox.Box, svc store.Service, sec Secret) ([]byte, error) {
	if svc.ID == "" {
		return nil, errors.New("provision: seal credentials: the service has no id")
	}
	b, err := json.Marshal(sec)
	if err != nil {
		return nil, fmt.Errorf("provision: seal credentials: %w", err)
	}
	return box.Seal(svc.ID, b)
}

// Open decrypts svc's credentials. ErrNoCredentials when it has none.
func Open(box *secretbox.Box, svc store.Service) (Secret, error) {
	var sec Secret
	if svc.ProvisioningSecret == nil {
		return sec, ErrNoCredentials
	}
	b, err := box.Open(svc.ID, svc.ProvisioningSecret)
	if err != nil {
		return sec, fmt.Errorf("provision: credentials of service %s: %w", svc.Slug, err)
	}
	if err := json.Unmarshal(b, &sec); err != nil {
		return sec, fmt.Errorf("provision: credentials of service %s: %w", svc.Slug, err)
	}
	return sec, nil
}

// ErrNoCredentials means a service has no provisioning credentials.
var ErrNoCredentials = errors.New("provision: the service has no provisioning credentials")

// Connector returns the connector of svc's kind with its stored
// credentials. cfg gives the transport settings (HTTPClient, Timeout); its
// BaseURL, Credentials, Settings and TakeOver are taken from svc.
func Connector(box *secretbox.Box, svc store.Service, cfg apps.Config) (apps.Connector, error) {
	sec, err := Open(box, svc)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = svc.BaseURL
	cfg.Credentials = sec.Credentials
	cfg.Settings = sec.Settings
	cfg.TakeOver = svc.ProvisionTakeOver
	return apps.New(string(svc.Kind), cfg)
}
