// Package config owns sesame's configuration: the Config structure and its
// defaults, loading from a YAML file and SESAME_* environment variables with
// viper, strict key checking (an unknown key in the file or the environment
// is an error), validation that reports every problem at once, each naming
// its key, and the master key file from which the server's secret keys are
// derived.
//
// Each key of the file is also an environment variable: "SESAME_" followed by
// the key in upper case with dots turned into underscores, so
// store.postgres.dsn is SESAME_STORE_POSTGRES_DSN. The environment wins over
// the file, which wins over the defaults.
//
// The command package maps this configuration onto each package's own small
// configuration struct; feature packages do not import config.
package config
