"""Component ids shared by layouts, callbacks and tests (documented in docs/using.md).

A typo in a name fails at import, not as a callback that silently never fires.
"""

# Main page
N_INPUT = "n-input"
SUBMIT_BUTTON = "submit-button"
INPUT_MESSAGE = "input-message"
ACTION_MESSAGE = "action-message"
TASKS_GRID = "tasks-grid"
TASKS_REFRESH = "tasks-refresh"
GRID_SHOWN = "grid-shown"
GRID_SEEN = "grid-seen"
GRID_UPDATES = "grid-updates"
GRID_APPLIED = "grid-applied"
TASKS_CHANGED = "tasks-changed"

# Task page
TASK_ID = "task-id"
TASK_REFRESH = "task-refresh"
TASK_EVENTS = "task-events"
TASK_STATUS = "task-status"
# Hidden from sight, read by screen readers: the status in words, which changes only when the status does.
TASK_STATUS_SPOKEN = "task-status-spoken"
OWN_TASKS_SPOKEN = "own-tasks-spoken"
TASK_DIGIT = "task-digit"
TASK_TIMINGS = "task-timings"
DIGITS_AREA = "digits-area"
PI_DIGITS = "pi-digits"
WINDOW_START = "window-start"
WINDOW_VIEW = "window-view"
WINDOW_LABEL = "window-label"
WINDOW_PREVIOUS = "window-previous"
WINDOW_NEXT = "window-next"
JUMP_INPUT = "jump-input"
JUMP_BUTTON = "jump-button"
JUMP_MESSAGE = "jump-message"
DOWNLOAD_LINK = "download-link"

# Every page: the navigation bar
NAV_SEARCH = "nav-search"
LANG_SWITCH = "lang-switch"

# Main page: the decimal/hexadecimal switch beside n
RADIX_SWITCH = "radix-switch"

# Task page: the statistics of places 1..n
DIGIT_FREQUENCIES = "digit-frequencies"
DIGIT_CONVERGENCE = "digit-convergence"
CHI_SQUARE = "chi-square"
HEX_DIGITS = "hex-digits"

# Search page
SEARCH_INPUT = "search-input"
SEARCH_BUTTON = "search-button"
SEARCH_RESULTS = "search-results"
SEARCH_PROGRESS = "search-progress"
SEARCH_CANCEL = "search-cancel"
SEARCH_COUNT = "search-count"
SEARCH_QUERY = "search-query"
SEARCH_SESSION = "search-session"
PAGE_LANGUAGE = "page-language"

# The window of digits at a place (a search result)
WINDOW_PAGE_DIGITS = "window-page-digits"
# The convergence chart in words (its text equivalent).
CONVERGENCE_IN_WORDS = "convergence-in-words"
