// Progressive enhancement only: every form works without this file.
import { initAll } from '/static/govuk/govuk-frontend.min.js'
initAll()

// The "updating" banner (services/console/updating.py): its "Check again" link is
// followed here after a growing pause, fetched in the background; the page moves to it
// only once that page shows the change or has given up (no banner asking to check
// again). The server bounds the attempts, so this stops on its own.
const waiting = document.querySelector('[data-updating-next]')

async function checkAgain (next, pause) {
  await new Promise(resolve => setTimeout(resolve, pause * 1000))
  let response
  try {
    response = await fetch(next, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
  } catch {
    return // offline: the link is still there to follow by hand
  }
  if (!response.ok) return
  const page = new DOMParser().parseFromString(await response.text(), 'text/html')
  const still = page.querySelector('[data-updating-next]')
  if (still) {
    checkAgain(still.dataset.updatingNext, Number(still.dataset.updatingPause) || 5)
  } else {
    window.location.replace(response.url)
  }
}

if (waiting) {
  checkAgain(waiting.dataset.updatingNext, Number(waiting.dataset.updatingPause) || 1)
}
