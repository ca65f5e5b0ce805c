// Progressive enhancement only: every form works without this file.
import { initAll } from '/static/govuk/govuk-frontend.min.js'
initAll()
