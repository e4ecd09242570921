// Applies the live table's poll results to the grid (a Dash clientside callback).
// The grid uses AG Grid's infinite row model, which takes no row transactions:
// changed rows of the shown page are set in place, and a page whose rows changed
// (a new task, a filter's rows moving) is fetched again from the server.
// A change of status of the visitor's own tasks is also put into words for a screen reader.
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.taskGrid = {
    apply: function (updates, gridId) {
        var nothing = window.dash_clientside.no_update;
        if (!updates) {
            return [nothing, nothing];
        }
        var api = dash_ag_grid.getApi(gridId);
        if (!api) {
            return [nothing, nothing];
        }
        var said = [];
        if (updates.refetch) {
            api.refreshInfiniteCache();
        } else {
            var context = api.getGridOption("context") || {};
            updates.rows.forEach(function (row) {
                var node = api.getRowNode(String(row.id));
                if (!node) {
                    return;
                }
                var sentence = window.dash_clientside.taskGrid.spoken(context, node.data, row);
                if (sentence) {
                    said.push(sentence);
                }
                node.setData(row);
            });
        }
        return [updates.revision, said.length ? said.join(" ") : nothing];
    },
    // What a screen reader is told when the row ``before`` becomes ``row``: only of one's own tasks' status.
    spoken: function (context, before, row) {
        if (!row.mine || !before || before.status === row.status || !context.ownStatus) {
            return null;
        }
        var template = row.status === "done" && row.digit != null ? context.ownDone : context.ownStatus;
        return template.replace("{id}", row.id).replace("{status}", row.status_label || row.status)
            .replace("{digit}", row.digit);
    },
};
