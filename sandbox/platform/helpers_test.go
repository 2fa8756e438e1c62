package platform

import "github.com/apsandbox/apsandbox/sandbox/journal"

var journalFilterAll = journal.Filter{}
