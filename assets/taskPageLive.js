// A running task's page, live: server-sent events (live/) tell it when its task changed, and it asks the
// server for its new state at once instead of on the next poll. While the stream is open the poll waits
// half a minute (a safety net); when it breaks, the page polls as before until it is back.
window.dash_clientside = window.dash_clientside || {};
(function () {
    var page = {source: null, taskId: null, refreshes: 0};

    function polling(milliseconds) {
        dash_clientside.set_props("task-refresh", {interval: milliseconds});
    }

    window.dash_clientside.taskPageLive = {
        follow: function (events, taskId) {
            var nothing = window.dash_clientside.no_update;
            if (page.source !== null && page.taskId !== taskId) {
                page.source.close(); // another task's page now
                page.source = null;
            }
            if (!events || typeof EventSource === "undefined" || page.source !== null) {
                return nothing;
            }
            page.taskId = taskId;
            var mark = '{"id":' + taskId + ",";
            var source = new EventSource(events.url + "?since=" + events.revision);
            source.onopen = function () {
                polling(30000);
            };
            source.onerror = function () {
                polling(events.pollMs);
            };
            source.onmessage = function (event) {
                if (!document.getElementById("task-status")) {
                    source.close(); // the page shows something else now
                    page.source = null;
                    return;
                }
                if (event.data.indexOf(mark) >= 0) {
                    page.refreshes += 1;
                    dash_clientside.set_props("task-refresh", {n_intervals: 1000000 + page.refreshes});
                }
            };
            source.addEventListener("reset", function () {
                page.refreshes += 1;
                dash_clientside.set_props("task-refresh", {n_intervals: 1000000 + page.refreshes});
            });
            page.source = source;
            return nothing;
        },
    };
})();
