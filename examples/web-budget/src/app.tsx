/**
 * The page: the budget, the citizen's ballot, and the live outcome, all read from the Space with
 * `cabildo/react` hooks, so a ballot cast in another tab (or arriving through the relay) shows at once.
 * @module
 */
import { shardOfId } from 'cabildo'
import { useCollection, useEntity, useSpace } from 'cabildo/react'
import { useMemo, useSyncExternalStore } from 'react'
import { BallotForm, type BallotProject } from './ballot-form'
import { budgetOutcome } from './budget-outcome'
import type { LinkStatus } from './link-status'
import { OutcomeChart } from './outcome-chart'
import type { Session } from './open-session'
import seed from './seed.json'

/** Each project's place in the source file (the city's list) and its Pabulib id. */
const source = new Map(seed.projects.map((p, i) => [p.id, { order: i, pabulib: p.pabulib }]))

function Links({ links }: { readonly links: LinkStatus }) {
  const states = useSyncExternalStore(links.subscribe, links.getSnapshot)
  const text = states.map((link) => {
    if (link.closed) return `${link.name}: closed${link.reason === undefined ? '' : ` (${link.reason})`}`
    if (link.name === 'tabs') return link.peers === 0 ? 'no other tab open' : `in sync with ${link.peers} other ${link.peers === 1 ? 'tab' : 'tabs'}`
    return link.peers === 0 ? `connecting to the ${link.name}…` : `connected to the ${link.name}`
  })
  return <p className="links">{text.join(' · ')}</p>
}

/** Props of {@link App}. */
export interface AppProps {
  readonly session: Session
}

/** The participatory-budgeting page. */
export function App({ session }: AppProps) {
  const space = useSpace()
  const budget = useEntity(space.budgets, session.budgetId)
  const shards = useMemo(() => [shardOfId(session.budgetId) ?? ''], [session.budgetId])
  const { items } = useCollection(space.projects, { shards, where: (p) => p.budget === session.budgetId })

  const projects = useMemo<BallotProject[]>(
    () =>
      items
        .filter((item) => item.valid)
        .map((item) => ({
          id: item.id,
          title: item.value.title ?? item.id,
          cost: item.value.cost ?? '0',
          category: item.value.category,
          reference: source.get(item.id)?.pabulib,
        }))
        .sort((a, b) => (source.get(a.id)?.order ?? 0) - (source.get(b.id)?.order ?? 0)),
    [items],
  )
  const titles = useMemo(() => new Map(projects.map((p) => [p.id, p.title])), [projects])
  const outcome = useMemo(() => budgetOutcome(budget.view, titles), [budget.view, titles])
  const counted = budget.view?.ballots.find((ballot) => ballot.voter === session.identity.did)
  const currency = budget.value.currency ?? ''
  const did = session.identity.did

  return (
    <>
      <header>
        <h1>{budget.value.title ?? 'Participatory budget'}</h1>
        <p className="lead">
          The 21 projects of Warsaw–Wilanów&apos;s 2017 participatory budget, from{' '}
          <a href="https://pabulib.org">Pabulib</a>. Vote here; every tab of this browser, and every browser on the same relay, counts the same ballots.
        </p>
        <p className="who">
          You vote as <code title={did}>{`${did.slice(0, 16)}…${did.slice(-6)}`}</code>
          {session.voter === 'identity' ? '' : ` (voter “${session.voter}”)`}.{' '}
          {budget.view === undefined ? 'Loading the vote…' : budget.view.phase === 'voting' ? 'The vote is open.' : `The vote is ${budget.view.phase}.`}
        </p>
        <Links links={session.links} />
      </header>
      <main>
        <section aria-labelledby="ballot-heading">
          <h2 id="ballot-heading">Your ballot</h2>
          <BallotForm projects={projects} currency={currency} counted={counted} budget={budget.entity} />
        </section>
        <section aria-labelledby="outcome-heading">
          <h2 id="outcome-heading">Outcome so far</h2>
          {outcome === undefined ? <p>Waiting for the vote to open…</p> : <OutcomeChart outcome={outcome} currency={currency} />}
        </section>
      </main>
      <footer>
        Data: Pabulib, {seed.source} (Stolicki, Szufa, Talmon). Rule: greedy by approvals, as the city counted; projects nobody approved are not funded.
      </footer>
    </>
  )
}
