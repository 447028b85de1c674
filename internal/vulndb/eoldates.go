package vulndb

import "time"

// The end-of-life dates below are the ones Trivy uses to flag an OS as no
// longer supported. Each release ends at 23:59:59 UTC on the date given.
// Keep them in step with Trivy's detectors when it adds releases.

// day is the last second of the given UTC date.
func day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 23, 59, 59, 0, time.UTC)
}

// forever stands for releases without a planned end of life.
var forever = day(3000, time.January, 1)

var eolAlma = map[string]time.Time{
	"8":  day(2029, time.March, 1),
	"9":  day(2032, time.May, 31),
	"10": day(2035, time.May, 31),
}

var eolAlpine = map[string]time.Time{
	"2.0": day(2012, time.April, 1), "2.1": day(2012, time.November, 1),
	"2.2": day(2013, time.May, 1), "2.3": day(2013, time.November, 1),
	"2.4": day(2014, time.May, 1), "2.5": day(2014, time.November, 1),
	"2.6": day(2015, time.May, 1), "2.7": day(2015, time.November, 1),
	"3.0": day(2016, time.May, 1), "3.1": day(2016, time.November, 1),
	"3.2": day(2017, time.May, 1), "3.3": day(2017, time.November, 1),
	"3.4": day(2018, time.May, 1), "3.5": day(2018, time.November, 1),
	"3.6": day(2019, time.May, 1), "3.7": day(2019, time.November, 1),
	"3.8": day(2020, time.May, 1), "3.9": day(2020, time.November, 1),
	"3.10": day(2021, time.May, 1), "3.11": day(2021, time.November, 1),
	"3.12": day(2022, time.May, 1), "3.13": day(2022, time.November, 1),
	"3.14": day(2023, time.May, 1), "3.15": day(2023, time.November, 1),
	"3.16": day(2024, time.May, 23), "3.17": day(2024, time.November, 22),
	"3.18": day(2025, time.May, 9), "3.19": day(2025, time.November, 1),
	"3.20": day(2026, time.April, 1), "3.21": day(2026, time.December, 5),
	"3.22": day(2027, time.April, 30), "3.23": day(2027, time.November, 1),
	// edge is the rolling development branch (midnight, unlike the rest).
	"edge": time.Date(9999, time.January, 1, 0, 0, 0, 0, time.UTC),
}

var eolAmazon = map[string]time.Time{
	"1":    day(2023, time.December, 31),
	"2":    day(2026, time.June, 30),
	"2023": day(2028, time.March, 15),
}

var eolCentOS = map[string]time.Time{
	"3": day(2010, time.October, 31),
	"4": day(2012, time.February, 29),
	"5": day(2017, time.March, 31),
	"6": day(2020, time.November, 30),
	"7": day(2024, time.June, 30),
	"8": day(2021, time.December, 31),
}

var eolDebian = map[string]time.Time{
	"1.1": day(1997, time.June, 5),
	"1.2": day(1998, time.June, 5),
	"1.3": day(1999, time.March, 9),
	"2.0": day(2000, time.March, 9),
	"2.1": day(2000, time.October, 30),
	"2.2": day(2003, time.July, 30),
	"3.0": day(2006, time.June, 30),
	"3.1": day(2008, time.March, 30),
	"4.0": day(2010, time.February, 15),
	"5.0": day(2012, time.February, 6),
	"6.0": day(2016, time.February, 29), // end of LTS from here on
	"7":   day(2018, time.May, 31),
	"8":   day(2020, time.June, 30),
	"9":   day(2022, time.June, 30),
	"10":  day(2024, time.June, 30),
	"11":  day(2026, time.August, 14),
	"12":  day(2028, time.June, 10),
	"13":  forever,
}

var eolOpenSUSELeap = map[string]time.Time{
	"42.1": day(2017, time.May, 17),
	"42.2": day(2018, time.January, 26),
	"42.3": day(2019, time.June, 30),
	"15.0": day(2019, time.December, 3),
	"15.1": day(2020, time.November, 30),
	"15.2": day(2021, time.November, 30),
	"15.3": day(2022, time.November, 30),
	"15.4": day(2023, time.November, 30),
	"15.5": day(2024, time.December, 31),
	"15.6": day(2025, time.December, 31),
	"16.0": day(2027, time.October, 31),
}

var eolOracle = map[string]time.Time{
	"3": day(2011, time.December, 31),
	"4": day(2013, time.December, 31),
	"5": day(2017, time.December, 31),
	"6": day(2021, time.March, 21),
	"7": day(2024, time.December, 31),
	"8": day(2029, time.July, 18),
	"9": day(2032, time.July, 18),
}

var eolPhoton = map[string]time.Time{
	"1.0": day(2022, time.February, 28),
	"2.0": day(2022, time.December, 31),
	"3.0": day(2024, time.March, 31),
	"4.0": day(2026, time.March, 31),
	"5.0": forever,
}

var eolRedHat = map[string]time.Time{
	"4":  day(2017, time.May, 31),
	"5":  day(2020, time.November, 30),
	"6":  day(2024, time.June, 30),
	"7":  forever, // extended life-cycle support
	"8":  forever,
	"9":  forever,
	"10": forever,
}

var eolRocky = map[string]time.Time{
	"8": day(2029, time.May, 31),
	"9": day(2032, time.May, 31),
}

var eolSLES = map[string]time.Time{
	"10": day(2007, time.December, 31), "10.1": day(2008, time.November, 30),
	"10.2": day(2010, time.April, 11), "10.3": day(2011, time.October, 11),
	"10.4": day(2013, time.July, 31),
	"11":   day(2010, time.December, 31), "11.1": day(2012, time.August, 31),
	"11.2": day(2014, time.January, 31), "11.3": day(2016, time.January, 31),
	"11.4": day(2019, time.March, 31),
	"12":   day(2016, time.June, 30), "12.1": day(2017, time.May, 31),
	"12.2": day(2018, time.March, 31), "12.3": day(2019, time.January, 30),
	"12.4": day(2020, time.June, 30), "12.5": day(2024, time.October, 31),
	"15": day(2019, time.December, 31), "15.1": day(2021, time.January, 31),
	"15.2": day(2021, time.December, 31), "15.3": day(2022, time.December, 31),
	"15.4": day(2023, time.December, 31), "15.5": day(2024, time.December, 31),
	"15.6": day(2025, time.December, 31), "15.7": day(2031, time.July, 31),
	"16.0": day(2027, time.November, 30), "16.1": day(2028, time.November, 30),
}

var eolSLEMicro = map[string]time.Time{
	"5.0": day(2022, time.March, 31),
	"5.1": day(2025, time.October, 31),
	"5.2": day(2026, time.April, 30),
	"5.3": day(2026, time.October, 30),
	"5.4": day(2027, time.April, 30),
	"5.5": day(2027, time.October, 31),
	"6.0": day(2028, time.June, 30),
	"6.1": day(2028, time.November, 30),
}

var eolUbuntu = map[string]time.Time{
	"4.10": day(2006, time.April, 30), "5.04": day(2006, time.October, 31),
	"5.10": day(2007, time.April, 13), "6.06": day(2011, time.June, 1),
	"6.10": day(2008, time.April, 25), "7.04": day(2008, time.October, 19),
	"7.10": day(2009, time.April, 18), "8.04": day(2013, time.May, 9),
	"8.10": day(2010, time.April, 30), "9.04": day(2010, time.October, 23),
	"9.10": day(2011, time.April, 29), "10.04": day(2015, time.April, 29),
	"10.10": day(2012, time.April, 10), "11.04": day(2012, time.October, 28),
	"11.10": day(2013, time.May, 9), "12.04": day(2019, time.April, 26),
	"12.04-ESM": day(2019, time.April, 28), "12.10": day(2014, time.May, 16),
	"13.04": day(2014, time.January, 27), "13.10": day(2014, time.July, 17),
	"14.04": day(2022, time.April, 25), "14.04-ESM": day(2024, time.April, 25),
	"14.10": day(2015, time.July, 23), "15.04": day(2016, time.January, 23),
	"15.10": day(2016, time.July, 22), "16.04": day(2021, time.April, 21),
	"16.04-ESM": day(2026, time.April, 29), "16.10": day(2017, time.July, 20),
	"17.04": day(2018, time.January, 13), "17.10": day(2018, time.July, 19),
	"18.04": day(2023, time.May, 31), "18.04-ESM": day(2028, time.March, 31),
	"18.10": day(2019, time.July, 18), "19.04": day(2020, time.January, 18),
	"19.10": day(2020, time.July, 17), "20.04": day(2025, time.May, 31),
	"20.04-ESM": day(2030, time.April, 30), "20.10": day(2021, time.July, 22),
	"21.04": day(2022, time.January, 20), "21.10": day(2022, time.July, 14),
	"22.04": day(2027, time.April, 23), "22.10": day(2023, time.July, 20),
	"23.04": day(2024, time.January, 20), "23.10": day(2024, time.June, 30),
	"24.04": day(2034, time.March, 31), "24.10": day(2025, time.July, 9),
	"25.04": day(2026, time.January, 16), "25.10": day(2026, time.July, 1),
	"26.04": day(2031, time.May, 31),
}
