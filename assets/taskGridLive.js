// Live updates pushed by the server (server-sent events from live/): the task table's shown rows change as the
// tasks do, with no poll. Every page gets the same events; each applies what concerns the rows it shows, keeping
// the newer of two reads of a row (its revision), and fetches its page again when the page's rows would change
// (a new task, a row entering or leaving a status filter), once per task and status, after a random pause of up
// to a second, so a crowd does not ask all at once. The running tasks' moving estimates ("progress" events) only
// move bars. While the stream is not open (refused, blocked by a proxy, or a server without it) the page polls.
window.dash_clientside = window.dash_clientside || {};
(function () {
    var live = {source: null, url: null, gridId: null, shown: null, revision: 0, refetchTimer: null, asked: {}};

    function grid() {
        try {
            return live.gridId && window.dash_ag_grid ? dash_ag_grid.getApi(live.gridId) : null;
        } catch (error) {
            return null; // the grid is gone (another page): dash_ag_grid throws
        }
    }

    function polling(on) {
        dash_clientside.set_props("tasks-refresh", {disabled: !on});
    }

    function refetchSoon() {
        if (live.refetchTimer === null) {
            live.refetchTimer = setTimeout(function () {
                live.refetchTimer = null;
                var api = grid();
                if (api) {
                    api.refreshInfiniteCache();
                }
            }, Math.random() * 1000);
        }
    }

    // Fetch the page again for this task in this status, unless that was asked already.
    function refetchFor(task) {
        var key = task.id + ":" + task.status;
        if (!live.asked[key]) {
            live.asked[key] = true;
            refetchSoon();
        }
    }

    function apply(message, movesRows) {
        var api = grid();
        if (!api || !live.shown) {
            return;
        }
        var context = api.getGridOption("context") || {};
        var statuses = (live.shown.query || {}).statuses;
        var newest = Math.max.apply(null, [0].concat(live.shown.ids || []));
        var said = [];
        message.tasks.forEach(function (task) {
            var node = api.getRowNode(String(task.id));
            if (node && node.data) {
                if ((node.data.revision || 0) > task.revision) {
                    return; // an older read than the row shown
                }
                var row = Object.assign({}, node.data, task, task.labels[context.locale] || task.labels.en);
                row.mine = node.data.mine;
                delete row.labels;
                var sentence = window.dash_clientside.taskGrid.spoken(context, node.data, row);
                if (sentence) {
                    said.push(sentence);
                }
                node.setData(row);
                if (movesRows && statuses && statuses.indexOf(row.status) < 0) {
                    refetchFor(task); // it leaves the filtered page
                }
            } else if (movesRows && (!statuses || statuses.indexOf(task.status) >= 0)) {
                if (task.id > newest || statuses) {
                    refetchFor(task); // a new task, or one entering the filter: the shown rows move
                }
            }
        });
        if (said.length) {
            var region = document.getElementById("own-tasks-spoken");
            if (region) {
                region.textContent = said.join(" ");
            }
        }
    }

    function connect() {
        var source = new EventSource(live.url + (live.url.indexOf("?") < 0 ? "?" : "&") + "since=" + live.revision);
        source.onopen = function () {
            polling(false);
        };
        source.onerror = function () {
            polling(true); // until it is open again
            if (source.readyState === EventSource.CLOSED) {
                // Refused (503: too many streams) or a proxy's error: the browser gives up; try again later.
                live.source = null;
                setTimeout(function () {
                    if (live.source === null && grid()) {
                        live.source = connect();
                    }
                }, 30000 + Math.random() * 30000);
            }
        };
        function handler(movesRows) {
            return function (event) {
                if (!grid()) {
                    source.close(); // the table is no longer on the page
                    live.source = null;
                    return;
                }
                var message = JSON.parse(event.data);
                if (movesRows) {
                    live.revision = Math.max(live.revision, message.revision);
                }
                apply(message, movesRows);
            };
        }
        source.onmessage = handler(true);
        source.addEventListener("progress", handler(false));
        source.addEventListener("reset", function () {
            refetchSoon(); // too far behind to catch up change by change
        });
        return source;
    }

    window.dash_clientside.taskGridLive = {
        // Called with the page the grid shows each time it fetched one; returns whether the poll stays off.
        follow: function (shown, gridId) {
            live.gridId = gridId;
            live.shown = shown;
            live.asked = {};
            var api = grid();
            var url = api && (api.getGridOption("context") || {}).events;
            if (!url || typeof EventSource === "undefined" || !shown) {
                return false;
            }
            live.revision = Math.max(live.revision, shown.revision);
            if (live.source === null) {
                live.url = url;
                live.source = connect();
            }
            return live.source.readyState === EventSource.OPEN;
        },
    };
})();
