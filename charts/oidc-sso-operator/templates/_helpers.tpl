{{/*
Names and labels shared by every template, and the RBAC rules shared by the ClusterRole and the
namespaced Role (one list, so the two modes cannot drift apart).
*/}}

{{- define "oidc-sso-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name; truncated to 63 characters, a DNS label (Service names). */}}
{{- define "oidc-sso-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "oidc-sso-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "oidc-sso-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oidc-sso-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "oidc-sso-operator.labels" -}}
helm.sh/chart: {{ include "oidc-sso-operator.chart" . }}
{{ include "oidc-sso-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "oidc-sso-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "oidc-sso-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The namespace the operator watches in namespaced mode. */}}
{{- define "oidc-sso-operator.watchNamespace" -}}
{{- default .Release.Namespace .Values.watchNamespace }}
{{- end }}

{{/*
ClusterRole names are cluster-wide: the release namespace keeps two releases of the same name in
different namespaces apart.
*/}}
{{- define "oidc-sso-operator.clusterRoleName" -}}
{{- printf "%s-%s" .Release.Namespace (include "oidc-sso-operator.fullname" .) }}
{{- end }}

{{- define "oidc-sso-operator.leaseName" -}}
{{- default (include "oidc-sso-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "oidc-sso-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
What the controller reads and writes (src/controller): its resources and their status; Secrets it
renders (server-side apply creates them, hence create and patch; delete for the ingestion Secret
when ingestion is turned off) and Secrets it reads on demand; metadata-only watches on Secrets,
ConfigMaps, Deployments and StatefulSets; a pod-template annotation on targets (patch); Events;
the pods of its targets, listed (never watched or read one by one) to find the IPs the server
proof asks. Never: update of any workload, or any verb on other kinds.
*/}}
{{- define "oidc-sso-operator.rules" -}}
- apiGroups: [oidcsso.io]
  resources: [oidcssoconfigs]
  verbs: [get, list, watch]
- apiGroups: [oidcsso.io]
  resources: [oidcssoconfigs/status]
  verbs: [patch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.serverProof }}
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
{{- end }}
{{- if .Values.botTokenRenewal }}
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, create]
{{- end }}
{{- end }}

{{/* A duration of one unit (`90s`, `15m`, `72h`, `3d`; values.schema.json checks it) in seconds, for PromQL. */}}
{{- define "oidc-sso-operator.seconds" -}}
{{- $units := dict "s" 1 "m" 60 "h" 3600 "d" 86400 }}
{{- mul (regexReplaceAll "[smhd]$" . "" | int) (get $units (regexFind "[smhd]$" .)) }}
{{- end }}
