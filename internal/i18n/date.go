package i18n

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Paris on systems without a zoneinfo database
)

var (
	frDays   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// DateTime writes t in loc the way people read dates in lang: French
// "mardi 1 décembre 2026 à 14 h 00", English "Tuesday 1 December 2026 at
// 14:00 (Paris time)" (the zone's city is named when it is Paris).
func DateTime(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	if lang == "en" {
		s := fmt.Sprintf("%s %d %s %d at %02d:%02d", t.Weekday(), t.Day(), t.Month(), t.Year(), t.Hour(), t.Minute())
		if loc.String() == "Europe/Paris" {
			s += " (Paris time)"
		} else {
			s += " (" + t.Format("MST") + ")"
		}
		return s
	}
	return fmt.Sprintf("%s %d %s %d à %d h %02d", frDays[t.Weekday()], t.Day(), frMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

// Day writes t's date in loc, without the time: "1 décembre 2026", "1
// December 2026".
func Day(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	if lang == "en" {
		return fmt.Sprintf("%d %s %d", t.Day(), t.Month(), t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), frMonths[t.Month()-1], t.Year())
}
