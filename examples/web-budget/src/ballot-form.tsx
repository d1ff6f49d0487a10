/**
 * The citizen's approval ballot: a checkbox per project, and a button that signs the ballot and
 * stores it (`budget.castBallot`). It starts from the ballot this voter already cast, if any,
 * so a reload or another tab of the same voter shows what counts.
 * @module
 */
import { CabildoError, type BudgetActions, type CountedBallot } from 'cabildo'
import { useState, type FormEvent } from 'react'

/** A project on the ballot. */
export interface BallotProject {
  readonly id: string
  readonly title: string
  readonly cost: string
  readonly category: string | undefined
  /** Its id in the source file, if it came from one. */
  readonly reference: string | undefined
}

/** Props of {@link BallotForm}. */
export interface BallotFormProps {
  readonly projects: readonly BallotProject[]
  readonly currency: string
  /** This voter's counted ballot, if any. */
  readonly counted: CountedBallot | undefined
  /** The budget's acts; `undefined` until the budget record is here. */
  readonly budget: BudgetActions | undefined
}

const money = new Intl.NumberFormat('en-US')

function approvedIn(ballot: CountedBallot | undefined): ReadonlySet<string> {
  const choice = (ballot?.payload as { readonly choice?: { readonly approved?: readonly string[] } } | undefined)?.choice
  return new Set(choice?.approved ?? [])
}

/** The ballot form. */
export function BallotForm({ projects, currency, counted, budget }: BallotFormProps) {
  // The voter's edits since the last cast; until then, the form shows the ballot that counts.
  const [draft, setDraft] = useState<ReadonlySet<string> | undefined>(undefined)
  const [status, setStatus] = useState('')
  const [busy, setBusy] = useState(false)
  const chosen = draft ?? approvedIn(counted)

  const toggle = (id: string): void => {
    const next = new Set(chosen)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    setDraft(next)
  }

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    if (budget === undefined) return
    setBusy(true)
    setStatus('Signing your ballot…')
    try {
      await budget.castBallot({ kind: 'approval', approved: projects.filter((p) => chosen.has(p.id)).map((p) => p.id) })
      setDraft(undefined)
      setStatus(`Your ballot counts: ${chosen.size} ${chosen.size === 1 ? 'project' : 'projects'} approved.`)
    } catch (error) {
      setStatus(CabildoError.is(error) ? `Not counted (${error.code}): ${error.message}` : `Not counted: ${String(error)}`)
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="ballot" onSubmit={(event) => void submit(event)}>
      <fieldset>
        <legend>Approve the projects you want funded</legend>
        <ul>
          {projects.map((project) => (
            <li key={project.id}>
              <label>
                <input type="checkbox" checked={chosen.has(project.id)} onChange={() => toggle(project.id)} />
                <span className="title">{project.title}</span>
                <span className="cost">
                  {money.format(Number(project.cost))} {currency}
                  {project.category === undefined ? '' : ` · ${project.category}`}
                  {project.reference === undefined ? '' : ` · #${project.reference}`}
                </span>
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <button type="submit" disabled={busy || budget === undefined || chosen.size === 0}>
        {counted === undefined ? 'Cast my ballot' : 'Replace my ballot'}
      </button>
      <p role="status" className="status">
        {status}
      </p>
    </form>
  )
}
