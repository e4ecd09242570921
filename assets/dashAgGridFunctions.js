// Functions the task table's column definitions call by name.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// Times are stored in UTC; show them in the reader's own time zone.
dagfuncs.localTime = function (iso) {
    return iso ? new Date(iso).toLocaleString() : "";
};
