// Cell renderers for the task table (dash-ag-grid looks them up by name here).
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

var BADGE = {queued: "secondary", running: "primary", done: "success", error: "danger", cancelled: "warning"};

// Rows of the infinite row model that are still loading have no data yet.
dagcomponentfuncs.TaskLink = function (props) {
    if (props.value == null) {
        return null;
    }
    return React.createElement("a", {href: "/task/" + props.value, className: "task-link"}, "#" + props.value);
};

dagcomponentfuncs.TaskStatus = function (props) {
    var data = props.data;
    if (!data) {
        return null;
    }
    var badge = React.createElement(
        "span", {className: "badge text-bg-" + (BADGE[data.status] || "light") + " me-2"},
        data.status_label || data.status
    );
    if (data.status === "running") {
        var percent = Math.round(100 * (data.progress || 0));
        var starting = (props.context && props.context.starting) || "starting";
        var label = (data.phase_label || data.phase || starting) + " · " + (data.progress_is_estimate ? "≈" : "")
            + percent + "%";
        var bar = React.createElement(
            "div", {className: "progress flex-grow-1", role: "progressbar", "aria-valuenow": percent,
                    "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": label, title: label},
            React.createElement("div", {className: "progress-bar progress-bar-striped progress-bar-animated",
                                        style: {width: percent + "%"}}, label)
        );
        return React.createElement("div", {className: "d-flex align-items-center h-100"}, badge, bar);
    }
    if (data.status === "error") {
        var reason = data.error_label || data.error;
        return React.createElement("span", {title: reason}, badge,
            React.createElement("span", {className: "text-danger small"}, reason));
    }
    return badge;
};

dagcomponentfuncs.CancelButton = function (props) {
    if (!props.data) {
        return null;
    }
    var status = props.data.status;
    // Only on one's own rows: the server refuses anyone else's cancel anyway.
    if (!props.data.mine || (status !== "queued" && status !== "running")) {
        return null;
    }
    return React.createElement(
        "button",
        {className: "btn btn-sm btn-outline-danger py-0", onClick: function () { props.setData(Date.now()); }},
        (props.context && props.context.cancel) || "Cancel"
    );
};
