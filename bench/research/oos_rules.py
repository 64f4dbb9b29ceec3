# Scores out-of-scope rules on oos_dump output (*.dump files in the working folder); see oos_rules.md.
import json, glob, math
rows={}
for f in sorted(glob.glob('*.dump')):
    rows[f[:-5]]=[json.loads(l) for l in open(f)]
def metrics(rule):
    out={}
    for name,rs in rows.items():
        ins=[r for r in rs if r['gold']!='oos']; oos=[r for r in rs if r['gold']=='oos']
        kept_correct=sum(1 for r in ins if r['task']==r['gold'] and not rule(r))/len(ins)
        base=sum(1 for r in ins if r['task']==r['gold'])/len(ins)
        rej=sum(1 for r in oos if rule(r))/len(oos)
        out[name]=(round(base*100,1),round(kept_correct*100,1),round(rej*100,1))
    return out
def summary(label, rule):
    m=metrics(rule)
    loss=sum(b-k for b,k,_ in m.values())/len(m); rec=sum(r for _,_,r in m.values())/len(m)
    print(f"{label:34s} in-scope loss {loss:5.2f}  oos recall {rec:5.1f}  ", ' '.join(f"{k}:{v[1]}/{v[2]}" for k,v in m.items()))
for t in [-0.5,0,0.2,0.3,0.4,0.5]:
    summary(f"evidence<{t}", lambda r,t=t: r['evidence']<t)
for t in [0.5,0.6,0.7,0.8,0.9]:
    summary(f"p1<{t}", lambda r,t=t: r['p1']<t)
for t in [0.1,0.2,0.3,0.4]:
  for u in [0.5,0.7]:
    summary(f"ev<{t} and p1<{u}", lambda r,t=t,u=u: r['evidence']<t and r['p1']<u)
    summary(f"ev<{t} or p1<{u}", lambda r,t=t,u=u: r['evidence']<t or r['p1']<u)
print('---')
for t in [0.05,0.1,0.15]:
    summary(f"evidence<{t}", lambda r,t=t: r['evidence']<t)
for t,u in [(0,0.5),(0,0.4),(0.1,0.4),(0.05,0.45),(-0.1,0.5)]:
    summary(f"ev<{t} or p1<{u}", lambda r,t=t,u=u: r['evidence']<t or r['p1']<u)
