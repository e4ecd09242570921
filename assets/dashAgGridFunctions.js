// Functions the task table's column definitions call by name.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// Times are stored in UTC; show them in the reader's own time zone.
dagfuncs.localTime = function (params) {
    var locale = (params.context && params.context.locale) || undefined;
    return params.value ? new Date(params.value).toLocaleString(locale) : "";
};

// Numbers as the page's language writes them (1,000 or 1 000); a hex task's place carries the base, 1,000₁₆.
dagfuncs.formatPlace = function (params) {
    if (params.value == null) {
        return "";
    }
    var locale = (params.context && params.context.locale) || undefined;
    var text = Number(params.value).toLocaleString(locale);
    if (params.data && params.data.radix === 16) {
        text += "₁₆";
    }
    return text;
};

dagfuncs.formatSeconds = function (params) {
    if (params.value == null) {
        return "";
    }
    var locale = (params.context && params.context.locale) || undefined;
    var seconds = params.value.toLocaleString(locale, {minimumFractionDigits: 2, maximumFractionDigits: 2});
    return ((params.context && params.context.seconds) || "{seconds} s").replace("{seconds}", seconds);
};

// AG Grid keeps the keyboard's focus on the cell, never on the link or the button a cell renderer draws:
// Enter (and Space, for a button) on such a cell presses what it holds, as a click would.
dagfuncs.pressOnEnter = function (params) {
    var event = params.event;
    if (event.type !== "keydown" || (event.key !== "Enter" && event.key !== " ")) {
        return false;
    }
    var control = event.target.querySelector(event.key === "Enter" ? "a, button" : "button");
    if (!control) {
        return false;
    }
    event.preventDefault();
    control.click();
    return true;
};
